// admin_config: Bootstrap.admin, checked and built into what the admin HTTP
// server (core/admin_server.h) runs with. Kept apart from gateway_config so
// the admin server's rules (loopback by default, authentication elsewhere)
// live in one place. The token file is read here, at build time: a missing
// or empty token file refuses the config, not the first request.
#pragma once

#include <optional>
#include <string>

#include "core/ip_address.h"
#include "mxscreen/config/v1/bootstrap.pb.h"

namespace mxs {

struct AdminConfig {
  Endpoint address;
  // Paths as resolved against the config file's folder (for config_dump and
  // to re-read certificates).
  std::string bearer_token_file;
  std::string cert_file, key_file, client_ca_file;
  // The token's bytes (trimmed); empty when no token is configured.
  std::string bearer_token;
  bool tls() const { return !cert_file.empty(); }
  // Bound to 127.0.0.0/8 or ::1.
  bool loopback() const;
  bool operator==(const AdminConfig& o) const;
  bool operator!=(const AdminConfig& o) const { return !(*this == o); }
};

// The address the admin server listens on when the section names none.
inline constexpr const char* kDefaultAdminAddress = "127.0.0.1:9425";

// nullopt when the bootstrap has no admin section (no admin server). Throws
// ConfigError naming the field ("admin.address", "admin.bearer_token_file").
// read_local_files = false skips reading the files (a control plane checking
// a push for another host).
std::optional<AdminConfig> BuildAdminConfig(const ::mxscreen::config::v1::Bootstrap& bootstrap,
                                            const std::string& base_dir,
                                            bool read_local_files = true);

}  // namespace mxs
