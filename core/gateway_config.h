// gateway_config: the built, immutable form of a Bootstrap. Building validates
// everything (addresses, durations, every filter's config and tables) and
// throws ConfigError with the field path; a running gateway only ever sees a
// config that built. New sessions take the newest config; running sessions
// keep theirs through shared_ptr.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/admin_config.h"
#include "core/dns_resolver.h"
#include "core/duration.h"
#include "core/filter.h"
#include "core/ip_address.h"
#include "mxscreen/config/v1/bootstrap.pb.h"

namespace mxs {

// The config messages, under a short name.
namespace config = ::mxscreen::config;

struct ListenerMetrics;

struct ChainEntry {
  std::string name;
  std::shared_ptr<const FilterFactory> factory;
  FilterTraits traits;
  Action action = Action::kIgnore;
  Seconds ttl{0};
};

enum class ProxyVersion : uint8_t { kNone, kV1, kV2 };

struct HandoffConfig {
  std::vector<Endpoint> backends;
  ProxyVersion proxy = ProxyVersion::kV2;
  Seconds connect_timeout{5};
  Seconds failure_backoff{30};
  bool splice = true;
};

struct LimitsConfig {
  uint32_t client_connection_count_limit = 50;
  uint32_t pre_queue_limit = 100;
  uint32_t post_queue_limit = 100;
  uint32_t relay_limit = 10000;
};

struct EngineConfig {
  uint32_t command_count_limit = 20;
  Seconds command_time_limit{300};
  Seconds command_time_limit_stress{10};
  uint32_t line_length_limit = 2048;
  bool helo_required = false;
  bool disable_vrfy = false;
};

struct ListenerConfig {
  std::string name;
  std::string hostname;  // the gateway's, copied so a session needs only this
  bool respectful_logging = true;
  Endpoint address;
  std::string program_name;
  std::string banner;
  LimitsConfig limits;
  EngineConfig engine;
  HandoffConfig handoff;
  Seconds greet_wait{6};
  Seconds greet_wait_stress{2};
  std::string store_path;
  Seconds store_retention{7 * 86400};
  Seconds store_cleanup_interval{12 * 3600};
  uint64_t store_memory_records = 1000000;
  // Enabled entries only, in configured order: a disabled test does not run
  // and does not count against a client.
  std::vector<ChainEntry> chain;
  // Its metric series, looked up once here (core/listener_metrics.h).
  std::shared_ptr<const ListenerMetrics> metrics;
};

struct LoggingConfig {
  config::v1::Logging::Sink sink = config::v1::Logging::STDERR;
  std::string path;
  std::string syslog_socket = "/dev/log";
  int syslog_facility = 2 << 3;  // LOG_MAIL
  bool respectful_logging = true;
};

// Bootstrap.control_plane, checked: where this gateway's config comes from.
struct ControlPlaneConfig {
  std::string address;  // host:port
  std::string fleet;
  std::string cert_file, key_file, ca_file;  // all empty: plaintext
  std::string server_name;
  std::string cache_path;
  Seconds reconnect_initial{1};
  Seconds reconnect_max{30};
  bool tls() const { return !ca_file.empty(); }
};

struct GatewayConfig {
  config::v1::Bootstrap source;  // as given, for config_dump
  std::string hostname;
  unsigned workers = 1;
  std::string store_path;
  LoggingConfig logging;
  // The DNS resolver of every worker (read at start; a reload keeps the old).
  DnsResolverOptions dns;
  // Bootstrap.user: whom to run as once everything needing root is open
  // (read at start only; core/privileges.h). Empty: stay as started.
  std::string user;
  // Bootstrap.drain_time: how long SIGTERM waits for sessions (the running
  // config's value when the signal comes).
  Seconds drain_time{30};
  std::vector<std::shared_ptr<const ListenerConfig>> listeners;
  // The admin HTTP server; nullopt: none.
  std::optional<AdminConfig> admin;
  // mxs_config_info's version label: the control plane's version_info for
  // a pushed config, else a hash of the config.
  std::string version;
};

// Checks bootstrap.control_plane (and node_id, which it needs); nullopt when
// the section is unset. Relative paths resolve against base_dir. Throws
// ConfigError.
std::optional<ControlPlaneConfig> BuildControlPlaneConfig(const config::v1::Bootstrap& bootstrap,
                                                          const std::string& base_dir);

// Bootstrap.hostname, or gethostname() when unset.
std::string HostnameOf(const config::v1::Bootstrap& bootstrap);
// Checks a logging section. Throws ConfigError.
LoggingConfig BuildLoggingConfig(const config::v1::Logging& logging);

// Parses YAML or JSON text into a Bootstrap; a filter entry without "@type"
// takes its config type from its name. Throws ConfigError.
config::v1::Bootstrap ParseBootstrapText(const std::string& text);
// Reads a YAML or JSON file into a Bootstrap. Throws ConfigError.
config::v1::Bootstrap LoadBootstrapFile(const std::string& path);

// Validates and builds. Relative table paths resolve against base_dir.
// read_local_files = false checks everything except the contents of files
// the config names (see BuildContext::ReadsLocalFiles). Throws ConfigError
// naming the field. `version` is what mxs_config_info reports: empty for a
// hash of the config (a file's); a pushed config passes the control plane's
// version_info, the same on every gateway of the fleet whatever their
// host-local settings (listener addresses, admin, logging).
std::shared_ptr<const GatewayConfig> BuildGatewayConfig(const config::v1::Bootstrap& bootstrap,
                                                        const std::string& base_dir,
                                                        bool read_local_files = true,
                                                        const std::string& version = "");

// "127.0.0.1:25", "[::1]:25" -> Endpoint; nullopt when malformed.
std::optional<Endpoint> ParseHostPort(const std::string& text);

}  // namespace mxs
