// grpc_tls: file reading and the gRPC credential options.
#include "core/grpc_tls.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace mxs {

std::string ReadPemFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::shared_ptr<grpc::ChannelCredentials> ClientCredentials(const std::string& ca_file,
                                                            const std::string& cert_file,
                                                            const std::string& key_file) {
  if (ca_file.empty() && cert_file.empty() && key_file.empty()) {
    return grpc::InsecureChannelCredentials();
  }
  if (ca_file.empty() || cert_file.empty() || key_file.empty()) {
    throw std::runtime_error("TLS needs the CA, the certificate and the key together");
  }
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = ReadPemFile(ca_file);
  o.pem_cert_chain = ReadPemFile(cert_file);
  o.pem_private_key = ReadPemFile(key_file);
  return grpc::SslCredentials(o);
}

std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const std::string& ca_file,
                                                           const std::string& cert_file,
                                                           const std::string& key_file) {
  grpc::SslServerCredentialsOptions o(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  o.pem_root_certs = ReadPemFile(ca_file);
  o.pem_key_cert_pairs.push_back({ReadPemFile(key_file), ReadPemFile(cert_file)});
  return grpc::SslServerCredentials(o);
}

}  // namespace mxs
