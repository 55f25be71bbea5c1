// admin_config: the checks of Bootstrap.admin (see admin_config.h).
#include "core/admin_config.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "core/config_error.h"
#include "core/gateway_config.h"

namespace mxs {
namespace {

std::string Resolve(const std::string& base_dir, const std::string& p) {
  if (p.empty() || p[0] == '/' || base_dir.empty()) return p;
  return base_dir + "/" + p;
}

std::string ReadFileOrThrow(const std::string& path, const std::string& field) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(field, "cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void CheckReadable(const std::string& path, const std::string& field) {
  if (access(path.c_str(), R_OK) != 0) throw ConfigError(field, "cannot read " + path);
}

std::string Trim(std::string s) {
  const char* ws = " \t\r\n";
  s.erase(s.find_last_not_of(ws) + 1);
  s.erase(0, s.find_first_not_of(ws));
  return s;
}

}  // namespace

bool AdminConfig::loopback() const { return IsLoopbackHost(address.address.ToString()); }

bool AdminConfig::operator==(const AdminConfig& o) const {
  return address == o.address && bearer_token_file == o.bearer_token_file &&
         cert_file == o.cert_file && key_file == o.key_file && client_ca_file == o.client_ca_file &&
         bearer_token == o.bearer_token;
}

std::optional<AdminConfig> BuildAdminConfig(const ::mxscreen::config::v1::Bootstrap& b,
                                            const std::string& base_dir, bool read_local_files) {
  if (!b.has_admin()) return std::nullopt;
  const auto& a = b.admin();
  AdminConfig out;
  std::string text = a.address().empty() ? kDefaultAdminAddress : a.address();
  auto ep = ParseHostPort(text);
  if (!ep || ep->port == 0) {
    throw ConfigError(
        "admin.address",
        "expected an IP address and port (\"127.0.0.1:9425\", \"[::1]:9425\"), got \"" + text +
            "\"");
  }
  out.address = *ep;
  out.bearer_token_file = Resolve(base_dir, a.bearer_token_file());
  out.cert_file = Resolve(base_dir, a.cert_file());
  out.key_file = Resolve(base_dir, a.key_file());
  out.client_ca_file = Resolve(base_dir, a.client_ca_file());

  if (out.cert_file.empty() != out.key_file.empty()) {
    throw ConfigError("admin", "HTTPS needs cert_file and key_file together");
  }
  if (!out.client_ca_file.empty() && out.cert_file.empty()) {
    throw ConfigError("admin.client_ca_file",
                      "client certificates need HTTPS: set cert_file and key_file too");
  }
  if (!out.loopback() && out.bearer_token_file.empty() && out.client_ca_file.empty()) {
    throw ConfigError("admin.address",
                      "the admin server on a non-loopback address (" + out.address.ToString() +
                          ") needs bearer_token_file or client_ca_file (with cert_file and "
                          "key_file)");
  }
  if (read_local_files) {
    if (!out.bearer_token_file.empty()) {
      out.bearer_token = Trim(ReadFileOrThrow(out.bearer_token_file, "admin.bearer_token_file"));
      if (out.bearer_token.empty()) {
        throw ConfigError("admin.bearer_token_file", out.bearer_token_file + " is empty");
      }
      for (char c : out.bearer_token) {
        if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
          throw ConfigError("admin.bearer_token_file",
                            "the token must be printable ASCII without spaces");
        }
      }
    }
    if (!out.cert_file.empty()) CheckReadable(out.cert_file, "admin.cert_file");
    if (!out.key_file.empty()) CheckReadable(out.key_file, "admin.key_file");
    if (!out.client_ca_file.empty()) CheckReadable(out.client_ca_file, "admin.client_ca_file");
  }
  return out;
}

}  // namespace mxs
