// verdict_cli: `mxscreen verdict get|delete|import` (see verdict_cli.h).
//
// The store is found the way the gateway finds it: the config is loaded and
// built in full (a config the gateway would refuse is refused here too), and
// the listener's store path is used, so the CLI can never look at a
// different store than the gateway would.
#include "core/verdict_cli.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>

#include "core/config_error.h"
#include "core/gateway_config.h"

namespace mxs {
namespace {

// postscreen's five cached tests, in the order of its cache value
// (psc_print_tests), as the names of the filters that implement them.
constexpr const char* kPostscreenTests[] = {"pregreet", "dnsbl", "pipelining", "non_smtp",
                                            "bare_newline"};

// postscreen's dict_cache keeps the time of its last cleanup as an entry of
// the cache itself; postmap may have folded its case.
constexpr std::string_view kCleanupStamp = "_LAST_CACHE_CLEANUP_COMPLETED_";

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// "3h12m": the two largest units, enough to judge a pass at a glance.
std::string FormatSpan(int64_t s) {
  static const std::pair<int64_t, char> kUnits[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  std::string out;
  int shown = 0;
  for (const auto& [size, unit] : kUnits) {
    if (shown == 2) break;
    int64_t n = s / size;
    if (n == 0 && shown == 0 && size != 1) continue;
    if (n == 0 && shown > 0) break;
    out += std::to_string(n) + unit;
    s -= n * size;
    ++shown;
  }
  return out;
}

struct OpenedStore {
  std::shared_ptr<VerdictStore> store;
  std::string path;
};

// Builds the config and opens the chosen listener's store. On failure prints
// the reason and sets *rc.
std::optional<OpenedStore> OpenListenerStore(const VerdictCliOptions& o, bool create,
                                             std::ostream& err, int* rc) {
  std::shared_ptr<const GatewayConfig> config;
  try {
    auto slash = o.config_path.rfind('/');
    std::string base_dir = slash == std::string::npos ? "." : o.config_path.substr(0, slash);
    config = BuildGatewayConfig(LoadBootstrapFile(o.config_path), base_dir);
  } catch (const ConfigError& e) {
    err << "mxscreen: " << o.config_path << ": " << e.what() << "\n";
    *rc = 2;
    return std::nullopt;
  }
  const ListenerConfig* listener = nullptr;
  for (const auto& l : config->listeners) {
    if (o.listener.empty() || l->name == o.listener) {
      listener = l.get();
      break;
    }
  }
  if (!listener) {
    err << "mxscreen: " << o.config_path << ": no listener named \"" << o.listener << "\"\n";
    *rc = 2;
    return std::nullopt;
  }
  if (listener->store_path.empty()) {
    err << "mxscreen: " << o.config_path << ": listener \"" << listener->name
        << "\" has no verdict store (store.path is not set)\n";
    *rc = 1;
    return std::nullopt;
  }
  VerdictStoreOptions so;
  so.path = listener->store_path;
  so.retention_time = listener->store_retention;
  so.cleanup_interval = Seconds(0);  // a short-lived command does not clean up
  so.create_if_missing = create;
  so.preload = false;  // one lookup or write: RocksDB answers it directly
  so.clock = o.clock;
  try {
    return OpenedStore{OpenVerdictStore(so, nullptr), so.path};
  } catch (const std::exception& e) {
    err << "mxscreen: " << e.what() << "\n";
    *rc = 1;
    return std::nullopt;
  }
}

int Get(const VerdictCliOptions& o, const IpAddress& client, int64_t now, std::ostream& out,
        std::ostream& err) {
  int rc = 0;
  auto opened = OpenListenerStore(o, false, err, &rc);
  if (!opened) return rc;
  auto record = opened->store->Lookup(client);
  if (opened->store->error_count() > 0) {
    err << "mxscreen: verdict store " << opened->path << ": read failed\n";
    return 1;
  }
  if (!record) {
    out << "no record for " << client.ToString() << "\n";
    return 1;
  }
  for (const auto& [filter, expiry] : record->passes) {
    out << filter << " " << FormatUtc(expiry);
    if (expiry > now) {
      out << " (in " << FormatSpan(expiry - now) << ")\n";
    } else {
      out << " expired\n";
    }
  }
  return 0;
}

int Delete(const VerdictCliOptions& o, const IpAddress& client, std::ostream& out,
           std::ostream& err) {
  int rc = 0;
  auto opened = OpenListenerStore(o, false, err, &rc);
  if (!opened) return rc;
  bool deleted = opened->store->Delete(client);
  if (opened->store->error_count() > 0) {
    err << "mxscreen: verdict store " << opened->path << ": delete failed\n";
    return 1;
  }
  if (!deleted) {
    out << "no record for " << client.ToString() << "\n";
    return 1;
  }
  out << "deleted " << client.ToString() << "\n";
  return 0;
}

int Import(const VerdictCliOptions& o, std::ostream& out, std::ostream& err) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (o.from_postmap != "-") {
    file.open(o.from_postmap);
    if (!file) {
      err << "mxscreen: cannot open " << o.from_postmap << "\n";
      return 1;
    }
    in = &file;
  }
  int rc = 0;
  auto opened = OpenListenerStore(o, true, err, &rc);
  if (!opened) return rc;
  VerdictStore& store = *opened->store;

  uint64_t imported = 0, nothing_passed = 0, bad = 0, lineno = 0;
  std::string line;
  while (std::getline(*in, line)) {
    ++lineno;
    PostmapCacheEntry entry;
    std::string why;
    switch (ParsePostmapCacheLine(line, &entry, &why)) {
      case PostmapLine::kIgnored:
        continue;
      case PostmapLine::kBad:
        err << o.from_postmap << ", line " << lineno << ": " << why << "\n";
        ++bad;
        continue;
      case PostmapLine::kEntry:
        break;
    }
    if (entry.record.passes.empty()) {
      ++nothing_passed;
      continue;
    }
    // An import never shortens a pass the gateway already recorded (an
    // import repeated after the cut-over, or a partly migrated fleet).
    VerdictRecord update;
    auto existing = store.Lookup(entry.address);
    for (const auto& [filter, expiry] : entry.record.passes) {
      if (!existing || existing->ExpiryOf(filter) < expiry) update.Set(filter, expiry);
    }
    if (!update.passes.empty()) store.Update(entry.address, update);
    ++imported;
  }
  if (store.error_count() > 0) {
    err << "mxscreen: verdict store " << opened->path << ": " << store.error_count()
        << " write(s) failed; the import is incomplete\n";
    return 1;
  }
  out << "imported " << imported << " record(s) into " << opened->path << "; skipped "
      << nothing_passed << " with no pass, " << bad << " bad line(s)\n";
  return bad > 0 ? 1 : 0;
}

}  // namespace

PostmapLine ParsePostmapCacheLine(std::string_view line, PostmapCacheEntry* entry,
                                  std::string* error) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t start = line.find_first_not_of(" \t");
  if (start == std::string_view::npos || line[start] == '#') return PostmapLine::kIgnored;
  line.remove_prefix(start);
  size_t sep = line.find_first_of(" \t");
  if (sep == std::string_view::npos) {
    *error = "expected an address, a tab and the expiry times";
    return PostmapLine::kBad;
  }
  std::string_view key = line.substr(0, sep);
  std::string_view value = line.substr(sep);
  value.remove_prefix(std::min(value.size(), value.find_first_not_of(" \t")));
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (EqualsIgnoreCase(key, kCleanupStamp)) return PostmapLine::kIgnored;
  auto address = ParseClientAddress(key);
  if (!address) {
    *error = "bad address \"" + std::string(key) + "\"";
    return PostmapLine::kBad;
  }
  entry->address = *address;
  entry->record = VerdictRecord{};
  // postscreen reads fewer fields as "the newer tests were disabled when this
  // was written" (psc_parse_tests); more than five is not its format.
  size_t field = 0;
  while (true) {
    size_t semi = value.find(';');
    std::string_view text = value.substr(0, semi);
    if (field == std::size(kPostscreenTests)) {
      *error = "more than " + std::to_string(field) + " expiry times";
      return PostmapLine::kBad;
    }
    if (text.empty() || text.size() > 18 ||
        text.find_first_not_of("0123456789") != std::string_view::npos) {
      *error = "bad expiry time \"" + std::string(text) + "\" (expected seconds since the epoch)";
      return PostmapLine::kBad;
    }
    int64_t t = std::stoll(std::string(text));
    // 0: never passed; 1: the test was disabled, which must not count
    // against the client, so neither is a pass.
    if (t > 1) entry->record.Set(kPostscreenTests[field], t);
    ++field;
    if (semi == std::string_view::npos) break;
    value.remove_prefix(semi + 1);
  }
  return PostmapLine::kEntry;
}

int RunVerdictCommand(const VerdictCliOptions& options, std::ostream& out, std::ostream& err) {
  int64_t now = options.clock ? options.clock() : static_cast<int64_t>(time(nullptr));
  if (options.command == "import") {
    if (options.from_postmap.empty()) {
      err << "mxscreen: verdict import: --from-postmap FILE is required\n";
      return 2;
    }
    return Import(options, out, err);
  }
  if (options.command != "get" && options.command != "delete") {
    err << "mxscreen: verdict: unknown command \"" << options.command
        << "\" (expected get, delete or import)\n";
    return 2;
  }
  auto client = ParseClientAddress(options.address);
  if (!client) {
    err << "mxscreen: verdict " << options.command << ": bad address \"" << options.address
        << "\"\n";
    return 2;
  }
  if (options.command == "get") return Get(options, *client, now, out, err);
  return Delete(options, *client, out, err);
}

}  // namespace mxs
