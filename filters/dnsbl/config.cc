// dnsbl config: the Dnsbl message -> Settings, with every check done here so
// that a bad site or map line is refused at load time with its field path.
// Postfix defaults: action ignore, pass TTL from the answers clamped to
// [60s, 1h] (the entry's own ttl is not used: DNS answers carry theirs).
#include <google/protobuf/descriptor.h>

#include <cctype>
#include <fstream>
#include <stdexcept>

#include "core/config_error.h"
#include "core/duration.h"
#include "core/filter_registry.h"
#include "filters/dnsbl/dnsbl.h"
#include "mxscreen/filters/dnsbl/v1/dnsbl.pb.h"

namespace mxs::dnsbl {
namespace {

using ConfigProto = ::mxscreen::filters::dnsbl::v1::Dnsbl;

Seconds Duration(const std::string& value, Seconds fallback, const std::string& path) {
  if (value.empty()) return fallback;
  auto d = ParseDuration(value);
  if (!d) throw ConfigError(path, "bad time value \"" + value + "\"");
  return *d;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// One texthash line: "key value", "#" comments and blank lines skipped.
void AddMapLine(const std::string& line, const std::string& path, Settings* s) {
  size_t b = line.find_first_not_of(" \t\r");
  if (b == std::string::npos || line[b] == '#') return;
  size_t e = line.find_first_of(" \t", b);
  size_t v = e == std::string::npos ? e : line.find_first_not_of(" \t", e);
  if (v == std::string::npos) throw ConfigError(path, "expected \"domain reply-domain\": " + line);
  std::string value = line.substr(v);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r')) {
    value.pop_back();
  }
  std::string key = Lower(line.substr(b, e - b));
  if (!key.empty() && key.back() == '.') key.pop_back();
  s->reply_map[key] = value;
}

class ConfigFactory : public TypedFilterConfigFactory<ConfigProto> {
 public:
  ConfigFactory()
      : TypedFilterConfigFactory("dnsbl", Action::kIgnore, std::chrono::seconds(3600)) {}

 protected:
  std::shared_ptr<const FilterFactory> BuildTyped(const ConfigProto& c,
                                                  BuildContext& ctx) const override {
    auto s = std::make_shared<Settings>();
    const std::string& p = ctx.path();
    if (c.sites_size() == 0) throw ConfigError(p + ".sites", "at least one site is required");
    for (int i = 0; i < c.sites_size(); ++i) {
      try {
        s->sites.push_back(ParseSite(c.sites(i)));
      } catch (const std::invalid_argument& e) {
        throw ConfigError(p + ".sites[" + std::to_string(i) + "]", e.what());
      }
    }
    s->Index();
    if (c.has_threshold()) {
      if (c.threshold() < 1) throw ConfigError(p + ".threshold", "must be at least 1");
      s->threshold = c.threshold();
    }
    if (c.has_allowlist_threshold()) {
      if (c.allowlist_threshold() > 0) {
        throw ConfigError(p + ".allowlist_threshold", "must be negative (or 0 for off)");
      }
      s->allowlist_threshold = c.allowlist_threshold();
    }
    s->timeout = Duration(c.timeout(), s->timeout, p + ".timeout");
    if (s->timeout.count() < 1) throw ConfigError(p + ".timeout", "must be at least 1s");
    s->min_ttl = Duration(c.min_ttl(), s->min_ttl, p + ".min_ttl");
    s->max_ttl = Duration(c.max_ttl(), s->max_ttl, p + ".max_ttl");
    if (s->max_ttl.count() < 1) throw ConfigError(p + ".max_ttl", "must be at least 1s");
    if (s->min_ttl > s->max_ttl) {
      throw ConfigError(p + ".min_ttl", "larger than max_ttl (" + c.min_ttl() + " > " +
                                            (c.max_ttl().empty() ? "1h" : c.max_ttl()) + ")");
    }
    const auto& rm = c.reply_map();
    if (!rm.path().empty() && rm.lines_size() > 0) {
      throw ConfigError(p + ".reply_map", "give either path or lines");
    }
    for (int i = 0; i < rm.lines_size(); ++i) {
      AddMapLine(rm.lines(i), p + ".reply_map.lines[" + std::to_string(i) + "]", s.get());
    }
    if (!rm.path().empty() && ctx.ReadsLocalFiles()) {
      std::string file = ctx.ResolvePath(rm.path());
      std::ifstream in(file);
      if (!in) throw ConfigError(p + ".reply_map.path", "cannot read " + file);
      int n = 0;
      for (std::string line; std::getline(in, line);) {
        AddMapLine(line, p + ".reply_map.path: " + file + ", line " + std::to_string(++n), s.get());
      }
    }
    FilterTraits t;
    t.cached = true;
    return FixedFilterFactory::PerSession<DnsblFilter>(
        std::move(t), std::shared_ptr<const Settings>(std::move(s)));
  }
};

FilterRegistrar<ConfigFactory> registrar;

}  // namespace
}  // namespace mxs::dnsbl
