// gateway_config: loading a config file and building it into the immutable
// form the workers use, with every check in one pass.
#include "core/gateway_config.h"

#include <google/protobuf/any.pb.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/message.h>
#include <unistd.h>

#include <cstdio>
#include <set>
#include <thread>

#include "core/config_error.h"
#include "core/filter_registry.h"
#include "core/listener_metrics.h"
#include "core/plugin_filter.h"
#include "core/proto_yaml.h"

namespace mxs {
namespace {

namespace pb = google::protobuf;
using config::v1::Bootstrap;

// A filter entry without "@type" takes the config type registered for its name.
const pb::Descriptor* ResolveFilterConfigType(const pb::Message& parent) {
  if (parent.GetDescriptor() != config::v1::FilterEntry::descriptor()) return nullptr;
  const auto& entry = static_cast<const config::v1::FilterEntry&>(parent);
  const FilterConfigFactory* f = FilterRegistry::Get().FindByName(entry.name());
  return f ? f->config_type() : nullptr;
}

Seconds DurationField(const std::string& value, Seconds fallback, const std::string& path) {
  if (value.empty()) return fallback;
  auto d = ParseDuration(value);
  if (!d) {
    throw ConfigError(
        path, "bad time value \"" + value + "\" (a number with an optional unit s, m, h, d or w)");
  }
  return *d;
}

// A path named in a config, relative to the config file's folder.
std::string ResolveConfigPath(const std::string& base_dir, const std::string& p) {
  if (p.empty() || p[0] == '/' || base_dir.empty()) return p;
  return base_dir + "/" + p;
}

class FilterBuildContext : public BuildContext {
 public:
  FilterBuildContext(std::string path, std::string base_dir, bool read_local_files)
      : path_(std::move(path)),
        base_dir_(std::move(base_dir)),
        read_local_files_(read_local_files) {}
  const std::string& path() const override { return path_; }
  std::string ResolvePath(const std::string& p) const override {
    return ResolveConfigPath(base_dir_, p);
  }
  bool ReadsLocalFiles() const override { return read_local_files_; }

 private:
  std::string path_;
  std::string base_dir_;
  bool read_local_files_;
};

LimitsConfig MergeLimits(LimitsConfig base, const config::v1::Limits& l) {
  if (l.has_client_connection_count_limit()) {
    base.client_connection_count_limit = l.client_connection_count_limit();
  }
  if (l.has_pre_queue_limit()) base.pre_queue_limit = l.pre_queue_limit();
  if (l.has_post_queue_limit()) base.post_queue_limit = l.post_queue_limit();
  if (l.has_relay_limit()) base.relay_limit = l.relay_limit();
  return base;
}

void CheckLimits(const LimitsConfig& l, const std::string& path) {
  if (l.client_connection_count_limit == 0) {
    throw ConfigError(path + ".client_connection_count_limit", "must be at least 1");
  }
  if (l.pre_queue_limit == 0) throw ConfigError(path + ".pre_queue_limit", "must be at least 1");
  if (l.post_queue_limit == 0) throw ConfigError(path + ".post_queue_limit", "must be at least 1");
  if (l.relay_limit == 0) throw ConfigError(path + ".relay_limit", "must be at least 1");
}

HandoffConfig BuildHandoff(const config::v1::Handoff& h, const std::string& path) {
  HandoffConfig out;
  if (h.backends_size() == 0) {
    throw ConfigError(path + ".backends", "at least one backend MTA (host:port) is required");
  }
  for (int i = 0; i < h.backends_size(); ++i) {
    auto ep = ParseHostPort(h.backends(i));
    if (!ep) {
      throw ConfigError(
          path + ".backends[" + std::to_string(i) + "]",
          "expected an IP address and port (\"127.0.0.1:10025\", \"[::1]:10025\"), got \"" +
              h.backends(i) + "\"");
    }
    out.backends.push_back(*ep);
  }
  switch (h.proxy_protocol()) {
    case config::v1::Handoff::V1:
      out.proxy = ProxyVersion::kV1;
      break;
    case config::v1::Handoff::NONE:
      out.proxy = ProxyVersion::kNone;
      break;
    default:
      out.proxy = ProxyVersion::kV2;
      break;
  }
  out.connect_timeout = DurationField(h.connect_timeout(), Seconds(5), path + ".connect_timeout");
  if (out.connect_timeout.count() == 0) {
    throw ConfigError(path + ".connect_timeout", "must be at least 1s");
  }
  out.failure_backoff = DurationField(h.failure_backoff(), Seconds(30), path + ".failure_backoff");
  out.splice = h.has_splice() ? h.splice() : true;
  return out;
}

EngineConfig BuildEngine(const config::v1::SmtpEngine& e, const std::string& path) {
  EngineConfig out;
  if (e.has_command_count_limit()) out.command_count_limit = e.command_count_limit();
  out.command_time_limit =
      DurationField(e.command_time_limit(), out.command_time_limit, path + ".command_time_limit");
  out.command_time_limit_stress =
      DurationField(e.command_time_limit_stress(), out.command_time_limit_stress,
                    path + ".command_time_limit_stress");
  if (out.command_time_limit.count() == 0 || out.command_time_limit_stress.count() == 0) {
    throw ConfigError(path + ".command_time_limit", "must be at least 1s");
  }
  if (e.has_line_length_limit()) out.line_length_limit = e.line_length_limit();
  if (out.line_length_limit < 512) {
    throw ConfigError(path + ".line_length_limit", "must be at least 512 (RFC 5321)");
  }
  if (e.has_helo_required()) out.helo_required = e.helo_required();
  if (e.has_disable_vrfy()) out.disable_vrfy = e.disable_vrfy();
  return out;
}

Action ActionOf(config::v1::Action a, Action fallback) {
  switch (a) {
    case config::v1::IGNORE:
      return Action::kIgnore;
    case config::v1::ENFORCE:
      return Action::kEnforce;
    case config::v1::DROP:
      return Action::kDrop;
    default:
      return fallback;
  }
}

// An entry with a `plugin` block: named by the operator (the name is its
// verdict cache key), built by plugin_filter.
ChainEntry BuildPluginEntry(const config::v1::FilterEntry& fe, const std::string& fpath,
                            const std::string& base_dir, bool read_local_files,
                            const std::vector<std::string>& plugin_path) {
  if (fe.name().empty()) {
    throw ConfigError(fpath + ".name",
                      "a plugin filter needs a name (its verdict cache key, log and metric name)");
  }
  if (FilterRegistry::Get().FindByName(fe.name()) != nullptr) {
    throw ConfigError(fpath + ".name", "\"" + fe.name() +
                                           "\" is a built-in filter; give the plugin filter a "
                                           "name of its own");
  }
  if (fe.has_typed_config()) {
    throw ConfigError(fpath + ".typed_config",
                      "a plugin filter takes its config in plugin.config, not typed_config");
  }
  ChainEntry entry;
  entry.name = fe.name();
  entry.action = ActionOf(fe.action(), kPluginDefaultAction);
  entry.ttl = DurationField(fe.ttl(), kPluginDefaultTtl, fpath + ".ttl");
  FilterBuildContext ctx(fpath + ".plugin", base_dir, read_local_files);
  entry.factory = BuildPluginFilter(fe.plugin(), fe.name(), plugin_path, fpath + ".plugin", ctx);
  entry.traits = entry.factory->traits();
  return entry;
}

std::vector<ChainEntry> BuildChain(const config::v1::Listener& l, const std::string& path,
                                   const std::string& base_dir, bool read_local_files,
                                   const std::vector<std::string>& plugin_path) {
  std::vector<ChainEntry> chain;
  std::set<std::string> names;
  for (int i = 0; i < l.filters_size(); ++i) {
    const auto& fe = l.filters(i);
    std::string fpath = path + ".filters[" + std::to_string(i) + "]";
    if (fe.has_plugin()) {
      ChainEntry entry = BuildPluginEntry(fe, fpath, base_dir, read_local_files, plugin_path);
      if (!names.insert(entry.name).second) {
        throw ConfigError(fpath + ".name",
                          "filter \"" + entry.name + "\" appears twice in this chain");
      }
      if (fe.has_enabled() ? fe.enabled() : true) chain.push_back(std::move(entry));
      continue;
    }
    const FilterConfigFactory* factory = nullptr;
    std::string type_name;
    if (fe.has_typed_config()) {
      type_name = fe.typed_config().type_url().substr(fe.typed_config().type_url().rfind('/') + 1);
      factory = FilterRegistry::Get().FindByType(type_name);
    }
    if (factory == nullptr) factory = FilterRegistry::Get().FindByName(fe.name());
    if (factory == nullptr) {
      std::string known;
      for (const auto& n : FilterRegistry::Get().Names()) known += (known.empty() ? "" : ", ") + n;
      throw ConfigError(fpath + ".name",
                        "unknown filter \"" + fe.name() + "\" (known: " + known + ")");
    }
    if (!fe.name().empty() && fe.name() != factory->name() &&
        FilterRegistry::Get().FindByName(fe.name()) != nullptr) {
      throw ConfigError(fpath + ".typed_config",
                        "config type " + type_name + " belongs to filter \"" +
                            std::string(factory->name()) + "\", not \"" + fe.name() + "\"");
    }
    ChainEntry entry;
    entry.name = fe.name().empty() ? std::string(factory->name()) : fe.name();
    if (!names.insert(entry.name).second) {
      throw ConfigError(fpath + ".name",
                        "filter \"" + entry.name + "\" appears twice in this chain");
    }
    entry.action = ActionOf(fe.action(), factory->default_action());
    entry.ttl = DurationField(fe.ttl(), factory->default_ttl(), fpath + ".ttl");
    const pb::Message* proto =
        pb::MessageFactory::generated_factory()->GetPrototype(factory->config_type());
    std::unique_ptr<pb::Message> cfg(proto->New());
    if (fe.has_typed_config() && !fe.typed_config().UnpackTo(cfg.get())) {
      throw ConfigError(fpath + ".typed_config",
                        "cannot decode as " + factory->config_type()->full_name());
    }
    FilterBuildContext ctx(fpath + ".typed_config", base_dir, read_local_files);
    entry.factory = factory->Build(*cfg, ctx);
    entry.traits = entry.factory->traits();
    bool enabled = fe.has_enabled() ? fe.enabled() : true;
    if (enabled) chain.push_back(std::move(entry));
  }
  return chain;
}

}  // namespace

std::optional<Endpoint> ParseHostPort(const std::string& text) {
  std::string host;
  std::string port;
  if (!text.empty() && text[0] == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (port.empty() || port.size() > 5) return std::nullopt;
  unsigned long p = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return std::nullopt;
    p = p * 10 + (c - '0');
  }
  if (p > 65535) return std::nullopt;
  if (host.empty()) host = "0.0.0.0";
  auto ip = IpAddress::Parse(host);
  if (!ip) return std::nullopt;
  return Endpoint{*ip, static_cast<uint16_t>(p)};
}

Bootstrap LoadBootstrapFile(const std::string& path) {
  Bootstrap b;
  ParseConfigFile(path, &b, ResolveFilterConfigType);
  return b;
}

Bootstrap ParseBootstrapText(const std::string& text) {
  Bootstrap b;
  ParseConfigText(text, &b, ResolveFilterConfigType);
  return b;
}

std::optional<ControlPlaneConfig> BuildControlPlaneConfig(const Bootstrap& b,
                                                          const std::string& base_dir) {
  if (!b.has_control_plane()) return std::nullopt;
  const auto& cp = b.control_plane();
  ControlPlaneConfig out;
  if (b.node_id().empty()) {
    throw ConfigError("node_id", "a gateway fed by a control plane needs a node_id");
  }
  out.address = cp.address();
  auto colon = out.address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == out.address.size() ||
      out.address.find_first_not_of("0123456789", colon + 1) != std::string::npos) {
    throw ConfigError("control_plane.address",
                      "expected \"host:port\", got \"" + out.address + "\"");
  }
  std::string host = out.address.substr(0, colon);
  if (cp.fleet().empty()) throw ConfigError("control_plane.fleet", "a fleet name is required");
  out.fleet = cp.fleet();
  auto resolve = [&](const std::string& p) { return ResolveConfigPath(base_dir, p); };
  out.cert_file = resolve(cp.cert_file());
  out.key_file = resolve(cp.key_file());
  out.ca_file = resolve(cp.ca_file());
  bool any = !out.cert_file.empty() || !out.key_file.empty() || !out.ca_file.empty();
  bool all = !out.cert_file.empty() && !out.key_file.empty() && !out.ca_file.empty();
  if (any && !all) {
    throw ConfigError("control_plane", "TLS needs cert_file, key_file and ca_file together");
  }
  if (!all && !cp.allow_plaintext() && !IsLoopbackHost(host)) {
    throw ConfigError("control_plane.address",
                      "plaintext to a non-loopback control plane (" + out.address +
                          "): set cert_file, key_file and ca_file, or allow_plaintext: true");
  }
  out.server_name = cp.server_name();
  if (!cp.cache_path().empty()) {
    out.cache_path = resolve(cp.cache_path());
  } else if (!b.store().path().empty()) {
    std::string store = resolve(b.store().path());
    while (store.size() > 1 && store.back() == '/') store.pop_back();
    auto slash = store.rfind('/');
    out.cache_path = (slash == std::string::npos ? std::string(".") : store.substr(0, slash)) +
                     "/pushed-config.binpb";
  } else {
    throw ConfigError("control_plane.cache_path", "required when store.path is not set");
  }
  out.reconnect_initial = DurationField(cp.reconnect_initial(), out.reconnect_initial,
                                        "control_plane.reconnect_initial");
  out.reconnect_max =
      DurationField(cp.reconnect_max(), out.reconnect_max, "control_plane.reconnect_max");
  if (out.reconnect_initial.count() == 0) {
    throw ConfigError("control_plane.reconnect_initial", "must be at least 1s");
  }
  if (out.reconnect_max < out.reconnect_initial) {
    throw ConfigError("control_plane.reconnect_max", "smaller than reconnect_initial");
  }
  return out;
}

std::string HostnameOf(const Bootstrap& b) {
  if (!b.hostname().empty()) return b.hostname();
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf[0] ? buf : "localhost";
}

LoggingConfig BuildLoggingConfig(const config::v1::Logging& lg) {
  LoggingConfig lc;
  lc.sink =
      lg.sink() == config::v1::Logging::SINK_UNSPECIFIED ? config::v1::Logging::STDERR : lg.sink();
  lc.path = lg.path();
  if (lc.sink == config::v1::Logging::FILE && lg.path().empty()) {
    throw ConfigError("logging.path", "a log file is required with sink: file");
  }
  if (!lg.syslog_socket().empty()) lc.syslog_socket = lg.syslog_socket();
  if (!lg.syslog_facility().empty()) {
    static const std::pair<const char*, int> kFacilities[] = {
        {"mail", 2},    {"daemon", 3},  {"user", 1},    {"local0", 16},
        {"local1", 17}, {"local2", 18}, {"local3", 19}, {"local4", 20},
        {"local5", 21}, {"local6", 22}, {"local7", 23}};
    int code = -1;
    for (const auto& [name, c] : kFacilities) {
      if (lg.syslog_facility() == name) code = c;
    }
    if (code < 0) {
      throw ConfigError("logging.syslog_facility",
                        "unknown facility \"" + lg.syslog_facility() + "\"");
    }
    lc.syslog_facility = code << 3;
  }
  lc.respectful_logging = lg.has_respectful_logging() ? lg.respectful_logging() : true;

  return lc;
}

std::shared_ptr<const GatewayConfig> BuildGatewayConfig(const Bootstrap& b,
                                                        const std::string& base_dir,
                                                        bool read_local_files,
                                                        const std::string& version) {
  auto out = std::make_shared<GatewayConfig>();
  out->source = b;
  out->hostname = HostnameOf(b);
  out->workers = b.workers();
  if (out->workers == 0) out->workers = std::max(1u, std::thread::hardware_concurrency());
  if (out->workers > 256) throw ConfigError("workers", "at most 256 workers");
  out->store_path = b.store().path();
  out->logging = BuildLoggingConfig(b.logging());
  out->user = b.user();
  if (out->user.find_first_of(" \t\n:/") != std::string::npos) {
    throw ConfigError("user", "\"" + out->user + "\" is not a user name");
  }
  out->drain_time = DurationField(b.drain_time(), out->drain_time, "drain_time");
  out->admin = BuildAdminConfig(b, base_dir, read_local_files);
  {
    // FNV-1a 64 of the deterministic serialization: the same config from a
    // file or a push gets the same version.
    std::string bytes;
    {
      pb::io::StringOutputStream raw(&bytes);
      pb::io::CodedOutputStream coded(&raw);
      coded.SetSerializationDeterministic(true);
      b.SerializeToCodedStream(&coded);
    }
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ull;
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    out->version = version.empty() ? hex : version;
  }

  const auto& dns = b.dns_resolver();
  for (int i = 0; i < dns.nameservers_size(); ++i) {
    auto ep = ParseHostPort(dns.nameservers(i));
    if (!ep || ep->port == 0) {
      throw ConfigError(
          "dns_resolver.nameservers[" + std::to_string(i) + "]",
          "expected \"address:port\" (\"[v6addr]:port\"), got \"" + dns.nameservers(i) + "\"");
    }
    out->dns.nameservers.push_back(*ep);
  }
  if (!dns.timeout().empty()) {
    out->dns.try_timeout = DurationField(dns.timeout(), Seconds(2), "dns_resolver.timeout");
    if (out->dns.try_timeout.count() == 0) {
      throw ConfigError("dns_resolver.timeout", "must be at least 1s");
    }
  }
  if (dns.has_tries()) {
    if (dns.tries() < 1 || dns.tries() > 10) {
      throw ConfigError("dns_resolver.tries", "must be 1 to 10");
    }
    out->dns.tries = static_cast<int>(dns.tries());
  }
  if (dns.has_cache_size()) out->dns.cache_size = dns.cache_size();

  LimitsConfig global = MergeLimits(LimitsConfig{}, b.limits());
  CheckLimits(global, "limits");

  if (b.listeners_size() == 0) throw ConfigError("listeners", "at least one listener is required");
  std::set<std::string> names;
  for (int i = 0; i < b.listeners_size(); ++i) {
    const auto& l = b.listeners(i);
    std::string path = "listeners[" + std::to_string(i) + "]";
    auto lc = std::make_shared<ListenerConfig>();
    lc->name = l.name().empty() ? "smtp" : l.name();
    if (!names.insert(lc->name).second) {
      throw ConfigError(path + ".name", "listener name \"" + lc->name + "\" is used twice");
    }
    auto addr = ParseHostPort(l.address());
    if (!addr) {
      throw ConfigError(path + ".address",
                        "expected an IP address and port (\"127.0.0.1:25\", \"[::1]:25\"), got \"" +
                            l.address() + "\"");
    }
    lc->address = *addr;
    for (const auto& other : out->listeners) {
      if (other->address == lc->address) {
        throw ConfigError(path + ".address", "listener " + other->name + " already listens on " +
                                                 lc->address.ToString());
      }
    }
    lc->hostname = out->hostname;
    lc->respectful_logging = out->logging.respectful_logging;
    lc->program_name = l.program_name().empty() ? "postfix/postscreen" : l.program_name();
    lc->banner = l.banner().empty() ? out->hostname + " ESMTP Postfix" : l.banner();
    lc->limits = MergeLimits(global, l.limits());
    CheckLimits(lc->limits, path + ".limits");
    lc->engine = BuildEngine(l.smtp(), path + ".smtp");
    lc->handoff = BuildHandoff(l.handoff(), path + ".handoff");
    lc->greet_wait = DurationField(l.greet_wait(), lc->greet_wait, path + ".greet_wait");
    lc->greet_wait_stress =
        DurationField(l.greet_wait_stress(), lc->greet_wait_stress, path + ".greet_wait_stress");
    const config::v1::Store& store = l.store().path().empty() ? b.store() : l.store();
    std::string store_path = l.store().path().empty() ? "store" : path + ".store";
    lc->store_path = store.path();
    lc->store_retention =
        DurationField(store.retention_time(), lc->store_retention, store_path + ".retention_time");
    lc->store_cleanup_interval = DurationField(store.cleanup_interval(), lc->store_cleanup_interval,
                                               store_path + ".cleanup_interval");
    if (store.has_memory_records()) lc->store_memory_records = store.memory_records();
    lc->chain = BuildChain(l, path, base_dir, read_local_files,
                           {b.plugin_path().begin(), b.plugin_path().end()});
    lc->metrics = std::make_shared<const ListenerMetrics>(MakeListenerMetrics(*lc));
    out->listeners.push_back(std::move(lc));
  }
  return out;
}

}  // namespace mxs
