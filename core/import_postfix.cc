// import_postfix: the generic half of `mxscreen import-postfix`. Reads the
// files (postfix_conf.cc knows their syntax), resolves each postscreen
// service's parameters, writes the gateway-wide YAML (hostname, logging,
// store, limits, listeners with hand-off, banner, SMTP engine) and lets every
// registered PostfixImporter add its filter. Whatever nobody translated is a
// warning: an operator must see what did not carry over.
#include "core/import_postfix.h"

#include <netdb.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <tuple>

#include "core/duration.h"
#include "core/gateway_config.h"
#include "core/ip_address.h"
#include "core/postfix_conf.h"

namespace mxs {
namespace {

// Postfix 3.7 defaults (`postconf -d`) of the parameters the core reads or
// that their defaults refer to. Filters register their own.
const std::map<std::string, std::string> kCoreDefaults = {
    {"compatibility_level", "0"},
    {"mail_name", "Postfix"},
    {"smtpd_banner", "$myhostname ESMTP $mail_name"},
    {"inet_interfaces", "all"},
    {"inet_protocols", "all"},
    {"data_directory", "/var/lib/postfix"},
    {"syslog_name", "${multi_instance_name?{$multi_instance_name}:{postfix}}"},
    {"syslog_facility", "mail"},
    {"respectful_logging", "${{$compatibility_level} <level {3.6} ? {no} : {yes}}"},
    {"smtpd_client_connection_count_limit", "50"},
    {"default_process_limit", "100"},
    {"smtpd_helo_required", "no"},
    {"disable_vrfy_command", "no"},
    {"line_length_limit", "2048"},
    {"postscreen_client_connection_count_limit", "$smtpd_client_connection_count_limit"},
    {"postscreen_pre_queue_limit", "$default_process_limit"},
    {"postscreen_post_queue_limit", "$default_process_limit"},
    {"postscreen_cache_map", "btree:$data_directory/postscreen_cache"},
    {"postscreen_command_count_limit", "20"},
    {"postscreen_command_time_limit", "${stress?{10}:{300}}s"},
    {"postscreen_greet_wait", "${stress?{2}:{6}}s"},
    {"postscreen_cache_retention_time", "7d"},
    {"postscreen_cache_cleanup_interval", "12h"},
    {"postscreen_helo_required", "$smtpd_helo_required"},
    {"postscreen_disable_vrfy_command", "$disable_vrfy_command"},
};

constexpr const char* kStoreDir = "/var/lib/mxscreen/";

struct FileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Postfix's default myhostname: the machine's name, made fully qualified.
std::string LocalHostname(const postfix::Settings& main) {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  std::string name = buf[0] ? buf : "localhost";
  if (name.find('.') == std::string::npos) {
    const postfix::Setting* d = main.Find("mydomain");
    name += "." + (d ? d->value : std::string("localdomain"));
  }
  return name;
}

// Everything one run knows; the PostfixParams of each service read from it.
struct ImportState {
  postfix::Settings main;  // main.cf, then zmprov on top
  std::map<std::string, std::string> defaults;
  std::set<std::string> used;
  std::vector<std::string> warnings;
  std::string local_hostname;

  void Warn(const std::string& message) {
    if (std::find(warnings.begin(), warnings.end(), message) == warnings.end()) {
      warnings.push_back(message);
    }
  }
};

class ServiceParams : public PostfixParams {
 public:
  // `svc` is null for the gateway-wide view (main.cf alone).
  ServiceParams(ImportState& state, const postfix::MasterService* svc) : s_(state), svc_(svc) {}

  std::string Get(const std::string& name) const override { return Resolve(name, false); }
  std::string GetStress(const std::string& name) const override { return Resolve(name, true); }
  bool IsSet(const std::string& name) const override {
    return (svc_ && svc_->overrides.Find(name)) || s_.main.Find(name);
  }
  void MarkUsed(const std::string& name) const override { s_.used.insert(name); }
  void Warn(const std::string& message) const override { s_.Warn(message); }
  const postfix::MasterService* service() const { return svc_; }
  // "FILE, line N: " where the parameter is set for this service; "" for a
  // Postfix default.
  std::string OriginOf(const std::string& name) const {
    const postfix::Setting* set = svc_ ? svc_->overrides.Find(name) : nullptr;
    if (!set) set = s_.main.Find(name);
    return set ? set->origin + ": " : "";
  }

 private:
  std::string Resolve(const std::string& name, bool stress) const {
    try {
      return postfix::Expand("$" + name, [&](const std::string& n) { return Raw(n, stress); });
    } catch (const postfix::ParseError&) {
      throw;
    } catch (const std::runtime_error& e) {
      throw postfix::ParseError(OriginOf(name) + name + ": " + e.what());
    }
  }

  std::optional<std::string> Raw(const std::string& name, bool stress) const {
    // Postfix's master sets these for each process.
    if (name == "stress") return std::string(stress ? "yes" : "");
    if (name == "process_name") return std::string("postscreen");
    if (name == "service_name") return svc_ ? svc_->name : std::string("smtp");
    const postfix::Setting* set = svc_ ? svc_->overrides.Find(name) : nullptr;
    if (!set) set = s_.main.Find(name);
    if (set) return set->value;
    if (auto it = s_.defaults.find(name); it != s_.defaults.end()) return it->second;
    if (name == "myhostname") return s_.local_hostname;
    if (name == "mydomain") {
      std::string host = Resolve("myhostname", stress);
      auto dot = host.find('.');
      return dot == std::string::npos ? std::string("localdomain") : host.substr(dot + 1);
    }
    return std::nullopt;
  }

  ImportState& s_;
  const postfix::MasterService* svc_;
};

std::optional<uint32_t> PositiveInt(const std::string& text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  uint32_t v = 0;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v == 0) return std::nullopt;
  return v;
}

// A count parameter mxscreen needs as a positive number; nullopt (with a
// warning) when Postfix's value has no equivalent, e.g. 0 for "no limit".
std::optional<uint32_t> Count(const ServiceParams& p, const std::string& name) {
  p.MarkUsed(name);
  std::string v = p.Get(name);
  auto n = PositiveInt(v);
  if (!n) p.Warn(name + " = " + v + ": mxscreen needs a positive number, left at its default");
  return n;
}

struct Limits {
  std::optional<uint32_t> client_connection_count, pre_queue, post_queue;
  bool operator==(const Limits& o) const {
    return client_connection_count == o.client_connection_count && pre_queue == o.pre_queue &&
           post_queue == o.post_queue;
  }
};

Limits ReadLimits(const ServiceParams& p) {
  return {Count(p, "postscreen_client_connection_count_limit"),
          Count(p, "postscreen_pre_queue_limit"), Count(p, "postscreen_post_queue_limit")};
}

void WriteLimits(const Limits& l, const std::string& indent, std::string* y) {
  if (l.client_connection_count) {
    *y += indent + "client_connection_count_limit: " + std::to_string(*l.client_connection_count) +
          "\n";
  }
  if (l.pre_queue) *y += indent + "pre_queue_limit: " + std::to_string(*l.pre_queue) + "\n";
  if (l.post_queue) *y += indent + "post_queue_limit: " + std::to_string(*l.post_queue) + "\n";
}

// postscreen_cache_map -> the directory of the RocksDB store. The file name
// is kept so that per-service caches stay apart; the directory is mxscreen's.
std::string StorePath(const ServiceParams& p) {
  p.MarkUsed("postscreen_cache_map");
  std::string map = p.Get("postscreen_cache_map");
  std::string spec = map.compare(0, 6, "proxy:") == 0 ? map.substr(6) : map;
  auto colon = spec.find(':');
  std::string type = colon == std::string::npos ? "" : spec.substr(0, colon);
  static const std::set<std::string> kFileTypes = {"btree", "hash", "lmdb", "cdb", "dbm", "sdbm"};
  if (kFileTypes.count(type) && spec.size() > colon + 1) {
    std::string path = spec.substr(colon + 1);
    return kStoreDir + path.substr(path.rfind('/') + 1);
  }
  p.Warn("postscreen_cache_map = " + map + ": not a file-based table, the verdict store is " +
         kStoreDir + "postscreen_cache");
  return std::string(kStoreDir) + "postscreen_cache";
}

// A Postfix time parameter that mxscreen has as one duration field, or as two
// (the value in normal operation and the one under stress, where Postfix
// writes ${stress?{x}:{y}}).
struct TimeParam {
  const char* param;
  char unit;  // Postfix's default unit: the one of its default value
  long min;   // Postfix's minimum, in seconds (it refuses less)
  const char* field;
  const char* field_default;  // mxscreen's default for `field`
  const char* stress_field = nullptr;
  const char* stress_default = nullptr;
};

// clang-format off
constexpr TimeParam kGreetWait = {"postscreen_greet_wait", 's', 1,
                                  "greet_wait", "6s", "greet_wait_stress", "2s"};
constexpr TimeParam kCommandTime = {"postscreen_command_time_limit", 's', 1,
                                    "command_time_limit", "300s",
                                    "command_time_limit_stress", "10s"};
constexpr TimeParam kCacheRetention = {"postscreen_cache_retention_time", 'd', 1,
                                       "retention_time", "7d"};
constexpr TimeParam kCacheCleanup = {"postscreen_cache_cleanup_interval", 'h', 0,
                                     "cleanup_interval", "12h"};
// clang-format on

// `value`, the parameter's value in normal operation or under stress, as an
// mxscreen duration; nullopt, with a warning, when Postfix would refuse it.
std::optional<std::string> TimeValue(const ServiceParams& p, const TimeParam& t,
                                     const std::string& value, bool stress) {
  auto text = PostfixTime(value, t.unit);
  auto seconds = text ? ParseDuration(*text) : std::nullopt;
  if (seconds && seconds->count() >= t.min) return seconds->count() == 0 ? "0" : *text;
  std::string defaults = t.field_default;
  if (t.stress_field) defaults += " (" + std::string(t.stress_default) + " under stress)";
  p.Warn(p.OriginOf(t.param) + t.param + (stress ? " under stress" : "") + " = " + value +
         ": expected a " + (t.min > 0 ? "non-zero " : "") + "time value, left at " + defaults);
  return std::nullopt;
}

bool IsDefault(const std::string& text, const char* field_default) {
  return ParseDuration(text) == ParseDuration(field_default);
}

// The fields of `t` that are not mxscreen's default, as "field: value" lines:
// the normal value, and for a stress-aware field also the value under stress
// (a plain Postfix value applies in both cases, as in Postfix).
std::string TimeYaml(const ServiceParams& p, const TimeParam& t, const std::string& indent) {
  p.MarkUsed(t.param);
  std::string y;
  std::string normal = p.Get(t.param);
  auto value = TimeValue(p, t, normal, false);
  if (value && !IsDefault(*value, t.field_default)) y += indent + t.field + ": " + *value + "\n";
  if (t.stress_field) {
    std::string stressed = p.GetStress(t.param);
    if (stressed != normal) value = TimeValue(p, t, stressed, true);
    if (value && !IsDefault(*value, t.stress_default)) {
      y += indent + t.stress_field + ": " + *value + "\n";
    }
  }
  return y;
}

// SmtpEngine fields that differ from mxscreen's (= Postfix's) defaults.
std::string EngineYaml(const ServiceParams& p, const std::string& indent) {
  std::string y;
  for (const char* n : {"postscreen_command_count_limit", "postscreen_helo_required",
                        "postscreen_disable_vrfy_command"}) {
    p.MarkUsed(n);
  }
  auto count = Count(p, "postscreen_command_count_limit");
  if (count && *count != 20) y += indent + "command_count_limit: " + std::to_string(*count) + "\n";
  y += TimeYaml(p, kCommandTime, indent);
  std::string line = p.Get("line_length_limit");
  auto length = PositiveInt(line);
  if (!length || *length < 512) {
    p.Warn("line_length_limit = " + line + ": mxscreen needs at least 512, left at 2048");
  } else if (*length != 2048) {
    y += indent + "line_length_limit: " + line + "\n";
  }
  for (auto [param, field] :
       {std::pair<const char*, const char*>{"postscreen_helo_required", "helo_required"},
        {"postscreen_disable_vrfy_command", "disable_vrfy"}}) {
    std::string v = p.Get(param);
    auto b = PostfixBool(v);
    if (!b) p.Warn(std::string(param) + " = " + v + ": expected yes or no, left at no");
    if (b && *b) y += indent + field + ": true\n";
  }
  return y;
}

// A verdict store's retention_time and cleanup_interval as a service has them
// (postscreen_cache_retention_time, postscreen_cache_cleanup_interval).
struct StoreTimes {
  std::string retention, cleanup;  // what to write; "" for mxscreen's default
};

// The duration in effect for a field written as `text` ("" for the default).
Seconds Effective(const std::string& text, const TimeParam& t) {
  return ParseDuration(text.empty() ? t.field_default : text).value_or(Seconds(0));
}

StoreTimes ReadStoreTimes(const ServiceParams& p) {
  StoreTimes out;
  for (auto [t, text] :
       {std::pair<const TimeParam*, std::string*>{&kCacheRetention, &out.retention},
        {&kCacheCleanup, &out.cleanup}}) {
    p.MarkUsed(t->param);
    auto value = TimeValue(p, *t, p.Get(t->param), false);
    if (value && !IsDefault(*value, t->field_default)) *text = *value;
  }
  return out;
}

std::string StoreTimesYaml(const StoreTimes& times, const std::string& indent) {
  std::string y;
  if (!times.retention.empty()) y += indent + "retention_time: " + times.retention + "\n";
  if (!times.cleanup.empty()) y += indent + "cleanup_interval: " + times.cleanup + "\n";
  return y;
}

int PortOf(const std::string& name) {
  if (auto n = PositiveInt(name); n && *n < 65536) return static_cast<int>(*n);
  static const std::map<std::string, int> kPorts = {
      {"smtp", 25}, {"submission", 587}, {"submissions", 465}, {"smtps", 465}};
  if (auto it = kPorts.find(name); it != kPorts.end()) return it->second;
  if (const servent* s = getservbyname(name.c_str(), "tcp")) return ntohs(s->s_port);
  return -1;
}

std::string HostPort(const IpAddress& ip, int port) {
  std::string host = ip.is_v4() ? ip.ToString() : "[" + ip.ToString() + "]";
  return host + ":" + std::to_string(port);
}

struct ListenerAddress {
  std::string name;
  std::string address;
};

// A master.cf inet service name -> the addresses Postfix listens on.
std::vector<ListenerAddress> AddressesOf(const std::string& service, const ServiceParams& global,
                                         const std::string& origin) {
  std::string host;
  std::string port = service;
  if (!service.empty() && service[0] == '[') {
    auto close = service.find("]:");
    if (close == std::string::npos) {
      global.Warn(origin + ": cannot read the service address \"" + service + "\", skipped");
      return {};
    }
    host = service.substr(1, close - 1);
    port = service.substr(close + 2);
  } else if (auto colon = service.rfind(':'); colon != std::string::npos) {
    host = service.substr(0, colon);
    port = service.substr(colon + 1);
  }
  int p = PortOf(port);
  if (p < 0) {
    global.Warn(origin + ": unknown port \"" + port + "\" in service " + service + ", skipped");
    return {};
  }
  std::vector<std::string> hosts;
  if (!host.empty()) {
    hosts.push_back(host);
  } else {
    std::string interfaces = global.Get("inet_interfaces");
    std::string protocols = global.Get("inet_protocols");
    bool v4 =
        protocols.find("ipv4") != std::string::npos || protocols.find("all") != std::string::npos;
    bool v6 =
        protocols.find("ipv6") != std::string::npos || protocols.find("all") != std::string::npos;
    if (interfaces == "all") {
      // One socket per family would collide with Linux's dual-stack [::],
      // so listen on IPv4 unless Postfix is IPv6-only, and say so.
      hosts.push_back(v4 || !v6 ? "0.0.0.0" : "::");
      if (v4 && v6) {
        global.Warn("inet_protocols = " + protocols + ": listening on 0.0.0.0:" +
                    std::to_string(p) + " (IPv4 only); use address \"[::]:" + std::to_string(p) +
                    "\" instead to accept IPv6 as well (dual-stack on Linux)");
      }
    } else if (interfaces == "loopback-only") {
      if (v4 || !v6) hosts.push_back("127.0.0.1");
      if (v6) hosts.push_back("::1");
    } else {
      hosts = SplitPostfixList(interfaces);
    }
  }
  std::vector<ListenerAddress> out;
  for (std::string h : hosts) {
    if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    auto ip = IpAddress::Parse(h);
    if (!ip) {
      global.Warn(origin + ": \"" + h +
                  "\" is not an IP address (mxscreen does not resolve host "
                  "names), service " +
                  service + " skipped on it");
      continue;
    }
    out.push_back({service, HostPort(*ip, p)});
  }
  if (out.size() > 1) {
    for (auto& l : out) l.name = service + "@" + l.address;
  }
  return out;
}

struct Globals {
  std::string hostname;
  std::string store;
  Limits limits;
  bool respectful = true;
  std::string backend;
  // Each store path's retention and cleanup, and who set them: the first
  // to use the path (the gateway's store first). mxscreen opens one store
  // per path, with one retention and cleanup.
  std::map<std::string, std::pair<StoreTimes, std::string>> store_times;
};

// The times of the store at `path` for this service (`who`): its own, or,
// when the store is shared with an earlier listener or the gateway and
// they differ, the earlier ones, with a warning.
StoreTimes SharedStoreTimes(const std::string& path, const std::string& who, const ServiceParams& p,
                            Globals& g) {
  StoreTimes mine = ReadStoreTimes(p);
  auto [it, first] = g.store_times.emplace(path, std::make_pair(mine, who));
  if (first) return mine;
  const auto& [kept, owner] = it->second;
  for (auto [t, want, have] : {std::tuple<const TimeParam*, const std::string*, const std::string*>{
                                   &kCacheRetention, &mine.retention, &kept.retention},
                               {&kCacheCleanup, &mine.cleanup, &kept.cleanup}}) {
    if (Effective(*want, *t) == Effective(*have, *t)) continue;
    p.Warn(p.service()->origin + ": " + t->param + " = " + p.Get(t->param) +
           ": the verdict store " + path + " is shared with " + owner + ", whose " + t->field +
           " (" + (have->empty() ? t->field_default : *have) +
           ") is used: mxscreen has one per store");
  }
  return kept;
}

std::string ListenerYaml(const ListenerAddress& where, const ServiceParams& p, Globals& g) {
  const std::string in = "    ";
  std::string y = "  - name: " + YamlScalar(where.name) + "\n";
  y += in + "address: " + YamlScalar(where.address) + "\n";
  std::string program = p.Get("syslog_name") + "/postscreen";
  if (program != "postfix/postscreen") y += in + "program_name: " + YamlScalar(program) + "\n";
  std::string banner = p.Get("smtpd_banner");
  if (banner != g.hostname + " ESMTP Postfix") y += in + "banner: " + YamlScalar(banner) + "\n";
  y += TimeYaml(p, kGreetWait, in);
  if (p.Get("myhostname") != g.hostname) {
    p.Warn(p.service()->origin + ": -o myhostname: mxscreen has one hostname per gateway, " +
           g.hostname + " is used");
  }
  auto respectful = PostfixBool(p.Get("respectful_logging"));
  if (respectful && *respectful != g.respectful) {
    p.Warn(p.service()->origin +
           ": -o respectful_logging: mxscreen sets this per gateway (logging), "
           "the main.cf value is used");
  }
  Limits limits = ReadLimits(p);
  if (!(limits == g.limits)) {
    y += in + "limits:\n";
    WriteLimits(limits, in + "  ", &y);
  }
  std::string engine = EngineYaml(p, in + "  ");
  if (!engine.empty()) y += in + "smtp:\n" + engine;
  std::string store = StorePath(p);
  StoreTimes times = SharedStoreTimes(store, "listener " + where.name, p, g);
  if (store != g.store) {
    // A listener's own store does not inherit the gateway store's times.
    y += in + "store:\n" + in + "  path: " + YamlScalar(store) + "\n";
    y += StoreTimesYaml(times, in + "  ");
  }
  y += in + "handoff:\n" + in + "  backends:\n" + in + "    - " + YamlScalar(g.backend) + "\n";
  y += in + "  proxy_protocol: v2\n";

  auto importers = PostfixImporterRegistry::Get().importers();
  std::stable_sort(
      importers.begin(), importers.end(),
      [](const PostfixImporter& a, const PostfixImporter& b) { return a.order < b.order; });
  std::string filters;
  for (const auto& imp : importers) {
    std::string entry;
    imp.translate(p, &entry);
    std::istringstream lines(entry);
    for (std::string line; std::getline(lines, line);) filters += in + "  " + line + "\n";
  }
  if (!filters.empty()) y += in + "filters:\n" + filters;
  return y;
}

std::string Header(const ImportPostfixOptions& o) {
  return "# mxscreen configuration imported from Postfix by `mxscreen import-postfix`.\n"
         "# Passing clients are handed to " +
         o.backend +
         " with a PROXY v2 header: that MTA needs\n"
         "# smtpd_upstream_proxy_protocol = haproxy (see docs/migrating-from-postscreen.md).\n";
}

int Import(const ImportPostfixOptions& o, std::ostream& out, ImportState& s) {
  if (!ParseHostPort(o.backend)) {
    throw postfix::ParseError(
        "--backend: expected an IP address and port (\"127.0.0.1:10025\", "
        "\"[::1]:10025\"), got \"" +
        o.backend + "\"");
  }
  s.main = postfix::ParseMainCf(ReadFile(o.main_cf), o.main_cf);
  std::vector<postfix::MasterService> services;
  if (!o.master_cf.empty()) services = postfix::ParseMasterCf(ReadFile(o.master_cf), o.master_cf);
  if (!o.zmprov.empty()) {
    std::vector<std::string> notes;
    postfix::Settings z = postfix::ParseZmprov(ReadFile(o.zmprov), o.zmprov, &notes);
    for (const auto& n : notes) s.Warn(n);
    // zmconfigd writes these attributes into main.cf, so they win over it.
    for (const auto& name : z.order()) {
      const postfix::Setting* set = z.Find(name);
      s.main.Set(name, set->value, set->origin);
    }
  }
  s.defaults = kCoreDefaults;
  for (const auto& imp : PostfixImporterRegistry::Get().importers()) {
    for (const auto& [k, v] : imp.defaults) s.defaults.emplace(k, v);
  }
  s.local_hostname = LocalHostname(s.main);

  ServiceParams global(s, nullptr);
  Globals g;
  g.backend = o.backend;
  g.hostname = global.Get("myhostname");
  if (!global.IsSet("myhostname")) {
    s.Warn("myhostname is not set: Postfix uses this machine's name, imported as " + g.hostname);
  }
  g.store = StorePath(global);
  g.limits = ReadLimits(global);
  std::string respectful_value = global.Get("respectful_logging");
  auto respectful = PostfixBool(respectful_value);
  if (!respectful)
    s.Warn("respectful_logging = " + respectful_value + ": expected yes or no, left at yes");
  g.respectful = respectful.value_or(true);

  std::string y = Header(o) + "hostname: " + YamlScalar(g.hostname) + "\n";
  y += "logging:\n";
  std::string maillog = global.Get("maillog_file");
  if (!maillog.empty()) {
    y += "  sink: file\n  path: " + YamlScalar(maillog) + "\n";
  } else {
    y += "  sink: syslog\n";
    std::string facility = global.Get("syslog_facility");
    if (facility != "mail") y += "  syslog_facility: " + YamlScalar(facility) + "\n";
  }
  if (!g.respectful) y += "  respectful_logging: false\n";
  StoreTimes store_times = ReadStoreTimes(global);
  g.store_times.emplace(g.store, std::make_pair(store_times, std::string("the gateway")));
  y += "store:\n  path: " + YamlScalar(g.store) + "\n" + StoreTimesYaml(store_times, "  ");
  y += "limits:\n";
  WriteLimits(g.limits, "  ", &y);

  std::vector<const postfix::MasterService*> screened;
  for (const auto& svc : services) {
    if (svc.type == "inet" && svc.command == "postscreen") screened.push_back(&svc);
  }
  postfix::MasterService default_service;
  if (screened.empty()) {
    if (!o.master_cf.empty()) {
      s.Warn(o.master_cf +
             ": no postscreen service (an inet line whose command is postscreen); "
             "imported as one listener on port 25");
    }
    default_service.name = "smtp";
    default_service.origin = o.main_cf;
    screened.push_back(&default_service);
  }
  std::string listeners;
  for (const postfix::MasterService* svc : screened) {
    ServiceParams p(s, svc);
    for (const auto& where : AddressesOf(svc->name, global, svc->origin)) {
      listeners += ListenerYaml(where, p, g);
    }
  }
  if (listeners.empty()) throw postfix::ParseError("no postscreen service with a usable address");
  y += "listeners:\n" + listeners;

  // Where mxscreen has one value, a ${stress?...} that differs is said so.
  for (const postfix::MasterService* svc : screened) {
    ServiceParams p(s, svc);
    for (const auto& name : s.used) {
      if (name == kGreetWait.param || name == kCommandTime.param) continue;
      std::string normal = p.Get(name);
      std::string stressed = p.GetStress(name);
      if (stressed != normal) {
        s.Warn(p.OriginOf(name) + name + ": the value under stress (" + stressed +
               ") is not imported, mxscreen uses " + normal + " always");
      }
    }
  }

  for (const auto& name : s.main.order()) {
    if (name.compare(0, 11, "postscreen_") != 0 || s.used.count(name)) continue;
    const postfix::Setting* set = s.main.Find(name);
    s.Warn(set->origin + ": " + name + " = " + set->value +
           ": not supported by mxscreen yet, ignored");
  }
  for (const postfix::MasterService* svc : screened) {
    for (const auto& name : svc->overrides.order()) {
      if (name.compare(0, 11, "postscreen_") != 0 || s.used.count(name)) continue;
      s.Warn(svc->origin + ": -o " + name + "=" + svc->overrides.Find(name)->value +
             ": not supported by mxscreen yet, ignored");
    }
  }
  out << y;
  return 0;
}

}  // namespace

PostfixImporterRegistry& PostfixImporterRegistry::Get() {
  static PostfixImporterRegistry* r = new PostfixImporterRegistry;
  return *r;
}

void PostfixImporterRegistry::Register(PostfixImporter importer) {
  importers_.push_back(std::move(importer));
}

std::string YamlScalar(const std::string& text) {
  static const std::set<std::string> kReserved = {"true", "false", "yes", "no", "on",
                                                  "off",  "null",  "y",   "n",  "~"};
  std::string lower = text;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // All digits would read back as a number; quoting keeps it a string.
  bool plain = !text.empty() && kReserved.count(lower) == 0 && text[0] != '-' && text[0] != ':' &&
               text.find_first_not_of("0123456789") != std::string::npos;
  for (size_t i = 0; plain && i < text.size(); ++i) {
    char c = text[i];
    plain = std::isalnum(static_cast<unsigned char>(c)) ||
            std::string("_./@+-").find(c) != std::string::npos ||
            (c == ':' && i + 1 < text.size() && text[i + 1] != ' ');
  }
  if (plain && text[0] == '@') plain = false;
  if (plain) return text;
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::vector<std::string> SplitPostfixList(const std::string& text) {
  return postfix::SplitList(text);
}

std::optional<bool> PostfixBool(const std::string& text) {
  std::string t = text;
  for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t == "yes") return true;
  if (t == "no") return false;
  return std::nullopt;
}

std::optional<std::string> PostfixTime(const std::string& text, char default_unit) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 9) return std::nullopt;
  std::string unit = text.substr(digits);
  if (unit.empty()) unit = std::string(1, default_unit);
  if (unit.size() != 1 || std::string("smhdw").find(unit[0]) == std::string::npos)
    return std::nullopt;
  return text.substr(0, digits) + unit;
}

std::optional<PostfixTestEntry> ImportPostfixTest(const PostfixParams& p,
                                                  const PostfixTestParams& names) {
  for (const std::string* n : {&names.enable, &names.action, &names.ttl}) {
    if (!n->empty()) p.MarkUsed(*n);
  }
  if (!names.enable.empty()) {
    std::string enable = p.Get(names.enable);
    auto on = PostfixBool(enable);
    if (!on) {
      p.Warn(names.enable + " = " + enable + ": expected yes or no, imported as no");
      return std::nullopt;
    }
    if (!*on) return std::nullopt;
  }
  PostfixTestEntry entry;
  entry.action = p.Get(names.action);
  for (char& c : entry.action) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (entry.action != "ignore" && entry.action != "enforce" && entry.action != "drop") {
    p.Warn(names.action + " = " + entry.action +
           ": expected ignore, enforce or drop, imported as " + names.default_action);
    entry.action = names.default_action;
  }
  std::string ttl_text = p.Get(names.ttl);
  auto ttl = PostfixTime(ttl_text, 'd');
  // Postfix refuses a zero TTL ("Specify a non-zero time value"); the
  // helper returns digits and one unit letter.
  if (!ttl || ttl->find_first_not_of('0') == ttl->size() - 1) {
    p.Warn(names.ttl + " = " + ttl_text + ": expected a non-zero time value, imported as " +
           names.default_ttl);
    ttl = names.default_ttl;
  }
  entry.ttl = *ttl;
  return entry;
}

std::string PostfixTestYaml(const std::string& filter_name, const PostfixTestEntry& entry,
                            bool enabled) {
  std::string yaml = "- name: " + filter_name + "\n";
  if (!enabled) yaml += "  enabled: false\n";
  return yaml + "  action: " + entry.action + "\n  ttl: " + entry.ttl + "\n";
}

int RunImportPostfix(const ImportPostfixOptions& options, std::ostream& out, std::ostream& err) {
  ImportState state;
  int rc;
  try {
    rc = Import(options, out, state);
  } catch (const FileError& e) {
    err << "mxscreen import-postfix: " << e.what() << "\n";
    return 1;
  } catch (const postfix::ParseError& e) {
    err << "mxscreen import-postfix: " << e.what() << "\n";
    return 2;
  }
  for (const auto& w : state.warnings) err << "warning: " << w << "\n";
  return rc;
}

}  // namespace mxs
