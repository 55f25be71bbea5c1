// dnsbl import: the DNSBL test's share of `mxscreen import-postfix`. Every
// postscreen_dnsbl_* parameter becomes a field of the dnsbl entry: sites
// (checked with the same parser as the gateway; a bad one is warned about and
// left out), threshold, allowlist_threshold (or the older
// whitelist_threshold), action, reply_map (texthash:/hash: files by path,
// inline:{...} as lines), timeout, min_ttl and max_ttl (or the older
// postscreen_dnsbl_ttl). Postfix runs no DNSBL test without sites, and
// neither does the import: no entry is written then.
#include <cctype>
#include <stdexcept>

#include "core/duration.h"
#include "core/import_postfix.h"
#include "filters/dnsbl/site.h"

namespace mxs::dnsbl {
namespace {

constexpr const char* kSites = "postscreen_dnsbl_sites";
constexpr const char* kThreshold = "postscreen_dnsbl_threshold";
constexpr const char* kAllowThreshold = "postscreen_dnsbl_allowlist_threshold";
constexpr const char* kWhiteThreshold = "postscreen_dnsbl_whitelist_threshold";
constexpr const char* kAction = "postscreen_dnsbl_action";
constexpr const char* kReplyMap = "postscreen_dnsbl_reply_map";
constexpr const char* kTtl = "postscreen_dnsbl_ttl";
constexpr const char* kMinTtl = "postscreen_dnsbl_min_ttl";
constexpr const char* kMaxTtl = "postscreen_dnsbl_max_ttl";
constexpr const char* kTimeout = "postscreen_dnsbl_timeout";

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// An integer parameter, or nullopt (warned) when it is not one.
std::optional<int> Integer(const PostfixParams& p, const char* name) {
  std::string v = Trim(p.Get(name));
  try {
    size_t used = 0;
    int n = std::stoi(v, &used);
    if (used == v.size()) return n;
  } catch (const std::exception&) {
  }
  p.Warn(std::string(name) + " = " + v + ": expected an integer, left at the default");
  return std::nullopt;
}

// A time parameter as an mxscreen duration, or nullopt (warned).
std::optional<std::string> Time(const PostfixParams& p, const char* name, char unit) {
  std::string v = p.Get(name);
  auto t = PostfixTime(v, unit);
  if (!t) p.Warn(std::string(name) + " = " + v + ": expected a time value, left at the default");
  return t;
}

bool Differs(const std::string& value, const char* field_default) {
  return ParseDuration(value) != ParseDuration(field_default);
}

void ReplyMap(const PostfixParams& p, std::string* yaml) {
  std::string map = Trim(p.Get(kReplyMap));
  if (map.empty()) return;
  auto colon = map.find(':');
  std::string type = colon == std::string::npos ? "" : map.substr(0, colon);
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string rest = colon == std::string::npos ? "" : map.substr(colon + 1);
  if ((type == "texthash" || type == "hash" || type == "lmdb" || type == "btree") &&
      !rest.empty() && rest[0] == '/') {
    // hash:/x is built from the text file /x; mxscreen reads that text.
    *yaml += "    reply_map:\n      path: " + YamlScalar(rest) + "\n";
    return;
  }
  if (type == "inline" && rest.size() >= 2 && rest.front() == '{' && rest.back() == '}') {
    std::string lines;
    for (const auto& item : SplitPostfixList(rest.substr(1, rest.size() - 2))) {
      std::string kv = item;
      if (kv.size() >= 2 && kv.front() == '{' && kv.back() == '}') kv = kv.substr(1, kv.size() - 2);
      auto eq = kv.find('=');
      if (eq == std::string::npos) {
        p.Warn(std::string(kReplyMap) + ": \"" + kv + "\" is not key=value, skipped");
        continue;
      }
      lines +=
          "        - " + YamlScalar(Trim(kv.substr(0, eq)) + " " + Trim(kv.substr(eq + 1))) + "\n";
    }
    if (!lines.empty()) *yaml += "    reply_map:\n      lines:\n" + lines;
    return;
  }
  p.Warn(std::string(kReplyMap) + " = " + map +
         ": only texthash:, hash: (its source file) and inline: tables are read; the reply "
         "names the list domains as queried");
}

void Translate(const PostfixParams& p, std::string* yaml) {
  for (const char* n : {kSites, kThreshold, kAllowThreshold, kWhiteThreshold, kAction, kReplyMap,
                        kTtl, kMinTtl, kMaxTtl, kTimeout}) {
    p.MarkUsed(n);
  }
  std::vector<std::string> sites;
  for (const auto& item : SplitPostfixList(p.Get(kSites))) {
    try {
      ParseSite(item);
      sites.push_back(item);
    } catch (const std::invalid_argument& e) {
      p.Warn(std::string(kSites) + ": " + e.what() + ", skipped");
    }
  }
  if (sites.empty()) return;  // the test is off
  std::string action = Trim(p.Get(kAction));
  for (char& c : action) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (action != "ignore" && action != "enforce" && action != "drop") {
    p.Warn(std::string(kAction) + " = " + action + ": expected ignore, enforce or drop, imported " +
           "as ignore");
    action = "ignore";
  }
  *yaml += "- name: dnsbl\n  action: " + action + "\n  typed_config:\n    sites:\n";
  for (const auto& s : sites) *yaml += "      - " + YamlScalar(s) + "\n";
  if (auto t = Integer(p, kThreshold); t && *t != 1) {
    if (*t < 1) {
      p.Warn(std::string(kThreshold) + " = " + std::to_string(*t) +
             ": below 1 every client would fail, left at 1");
    } else {
      *yaml += "    threshold: " + std::to_string(*t) + "\n";
    }
  }
  // The newer name wins; its Postfix default is the older one's value.
  const char* allow =
      p.IsSet(kAllowThreshold) || !p.IsSet(kWhiteThreshold) ? kAllowThreshold : kWhiteThreshold;
  if (auto t = Integer(p, allow); t && *t != 0) {
    if (*t > 0) {
      p.Warn(std::string(allow) + " = " + std::to_string(*t) +
             ": a positive allowlist threshold is not supported, left off");
    } else {
      *yaml += "    allowlist_threshold: " + std::to_string(*t) + "\n";
    }
  }
  ReplyMap(p, yaml);
  if (auto t = Time(p, kTimeout, 's'); t && Differs(*t, "10s")) {
    *yaml += "    timeout: " + *t + "\n";
  }
  if (auto t = Time(p, kMinTtl, 's'); t && Differs(*t, "60s")) {
    *yaml += "    min_ttl: " + *t + "\n";
  }
  // postscreen_dnsbl_max_ttl defaults to the older postscreen_dnsbl_ttl.
  const char* max = p.IsSet(kMaxTtl) || !p.IsSet(kTtl) ? kMaxTtl : kTtl;
  if (auto t = Time(p, max, 'h'); t && Differs(*t, "1h")) *yaml += "    max_ttl: " + *t + "\n";
}

struct Registrar {
  Registrar() {
    // Order 20: after the access list (0) and pregreet (10), before the deep
    // tests (40-42), as postscreen runs them.
    PostfixImporterRegistry::Get().Register(PostfixImporter{"dnsbl",
                                                            20,
                                                            {{kSites, ""},
                                                             {kThreshold, "1"},
                                                             {kAllowThreshold, "0"},
                                                             {kWhiteThreshold, "0"},
                                                             {kAction, "ignore"},
                                                             {kReplyMap, ""},
                                                             {kTtl, "1h"},
                                                             {kMinTtl, "60s"},
                                                             {kMaxTtl, "1h"},
                                                             {kTimeout, "10s"}},
                                                            Translate});
  }
} registrar;

}  // namespace
}  // namespace mxs::dnsbl
