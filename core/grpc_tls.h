// grpc_tls: certificate files into gRPC credentials, shared by the gateway's
// control client, mxscreenctl and mxscreen-control, so all three read and
// check TLS material the same way. Include only from .cc files (gRPC headers).
#pragma once

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

namespace mxs {

// The largest config message the gateway, mxscreenctl and mxscreen-control
// exchange (inline tables make configs big; gRPC's default is 4 MiB).
constexpr int kMaxConfigMessageBytes = 64 << 20;

// The whole file; throws std::runtime_error("cannot read PATH").
std::string ReadPemFile(const std::string& path);

// Mutual TLS as a client: the CA that signed the server's certificate, and
// this client's certificate and key. All three empty: plaintext. Throws
// std::runtime_error when only some are given or a file cannot be read.
std::shared_ptr<grpc::ChannelCredentials> ClientCredentials(const std::string& ca_file,
                                                            const std::string& cert_file,
                                                            const std::string& key_file);

// Mutual TLS as a server: clients must present a certificate signed by
// ca_file. Throws std::runtime_error when a file cannot be read.
std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const std::string& ca_file,
                                                           const std::string& cert_file,
                                                           const std::string& key_file);

}  // namespace mxs
