// access_cidr import: the access list's share of `mxscreen import-postfix`.
// postscreen_access_list (permit_mynetworks, cidr: tables, inline: address
// tables), mynetworks and postscreen_denylist_action (or the older
// postscreen_blacklist_action) become one access_cidr entry. Lookup tables
// that cannot be read here (hash:, lmdb:, texthash:, ...) are warned about.
#include <cctype>
#include <fstream>
#include <stdexcept>

#include "core/import_postfix.h"
#include "core/ip_address.h"
#include "filters/access_cidr/cidr_table.h"

namespace mxs::access_cidr {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool StartsWith(const std::string& s, const char* prefix) { return Lower(s).rfind(prefix, 0) == 0; }

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// "{ text }" -> "text"; anything else unchanged.
std::string Unbrace(const std::string& s) {
  if (s.size() >= 2 && s.front() == '{' && s.back() == '}') return Trim(s.substr(1, s.size() - 2));
  return s;
}

// The table lines of cidr:{ {rule}, {rule} } (Postfix 3.7 inline form).
std::optional<std::vector<std::string>> InlineCidr(const std::string& entry,
                                                   const PostfixParams& p) {
  std::vector<std::string> lines;
  for (const auto& rule : SplitPostfixList(Unbrace(entry.substr(5))))
    lines.push_back(Unbrace(rule));
  try {
    CidrTable::Parse(lines, "inline table");
  } catch (const std::invalid_argument& e) {
    p.Warn("postscreen_access_list: " + entry + ": " + e.what() + ", skipped");
    return std::nullopt;
  }
  return lines;
}

// inline:{ 192.0.2.1=reject, ... } is an exact-match table keyed by the
// client address, so each key becomes a host entry of a CIDR table.
std::optional<std::vector<std::string>> InlineTable(const std::string& entry,
                                                    const PostfixParams& p) {
  std::vector<std::string> lines;
  for (const auto& item : SplitPostfixList(Unbrace(entry.substr(7)))) {
    std::string kv = Unbrace(item);
    auto eq = kv.find('=');
    std::string key = Trim(kv.substr(0, eq));
    std::string value = eq == std::string::npos ? "" : Lower(Trim(kv.substr(eq + 1)));
    if (!IpAddress::Parse(key) || (value != "permit" && value != "reject" && value != "dunno")) {
      p.Warn("postscreen_access_list: " + entry + ": \"" + kv +
             "\" is not \"address=permit|reject|dunno\" (an inline: table matches whole "
             "addresses only), skipped");
      return std::nullopt;
    }
    lines.push_back(key + " " + value);
  }
  return lines;
}

bool IsTable(const std::string& item) {
  size_t colon = item.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= item.size()) return false;
  for (size_t i = 0; i < colon; ++i) {
    if (!std::isalpha(static_cast<unsigned char>(item[i]))) return false;
  }
  return item[colon + 1] == '/' || item[colon + 1] == '{';
}

// mynetworks items: networks, and /file/name holding more of them.
void AddNetworks(const std::string& text, const PostfixParams& p, int depth,
                 std::vector<std::string>* out) {
  for (const auto& item : SplitPostfixList(text)) {
    if (item[0] == '/' && depth < 10) {
      std::ifstream in(item);
      if (!in) {
        p.Warn("mynetworks: cannot read " + item + " here, its networks are not imported");
        continue;
      }
      std::string content;
      for (std::string line; std::getline(in, line);) {
        if (Trim(line).rfind('#', 0) != 0) content += line + "\n";
      }
      AddNetworks(content, p, depth + 1, out);
      continue;
    }
    std::string error;
    auto cidr = Cidr::Parse(item, &error);
    if (!cidr) {
      p.Warn("mynetworks: \"" + item + "\" is not supported (" +
             (IsTable(item) ? std::string("lookup tables are not read") : error) + "), skipped");
      continue;
    }
    out->push_back(cidr->ToString());
  }
}

std::vector<std::string> MyNetworks(const PostfixParams& p) {
  std::vector<std::string> nets;
  if (p.IsSet("mynetworks")) {
    AddNetworks(p.Get("mynetworks"), p, 0, &nets);
    return nets;
  }
  // Postfix derives the default from the host it runs on, which the import
  // cannot see; loopback is the part every style includes.
  std::string style = p.Get("mynetworks_style");
  static const std::map<std::string, std::string> kStyles = {
      {"host", "this machine's own addresses"},
      {"subnet", "the subnets of this machine's interfaces"},
      {"class", "the whole class A/B/C networks of this machine's interfaces"}};
  auto it = kStyles.find(Lower(style));
  p.Warn("mynetworks is not set: Postfix uses mynetworks_style = " + style + " (" +
         (it == kStyles.end() ? std::string("unknown style") : it->second) +
         "), approximated as 127.0.0.0/8 and ::1/128; set mynetworks to permit more");
  return {"127.0.0.0/8", "::1/128"};
}

void Translate(const PostfixParams& p, std::string* yaml) {
  for (const char* n : {"postscreen_access_list", "postscreen_denylist_action",
                        "postscreen_blacklist_action", "mynetworks", "mynetworks_style"}) {
    p.MarkUsed(n);
  }
  std::string list = p.Get("postscreen_access_list");
  std::vector<std::string> items = SplitPostfixList(list);
  std::vector<std::string> nets;
  for (const auto& entry : items) {
    if (Lower(entry) == "permit_mynetworks") {
      nets = MyNetworks(p);
      // An empty Postfix mynetworks permits nothing; leaving the entry in
      // would permit mxscreen's default networks instead.
      if (nets.empty())
        p.Warn(
            "mynetworks: no usable network, so permit_mynetworks (which would permit nothing) is "
            "left out");
      break;
    }
  }
  std::string entries;
  for (const auto& entry : items) {
    if (Lower(entry) == "permit_mynetworks") {
      if (!nets.empty()) entries += "      - permit_mynetworks: true\n";
      continue;
    }
    std::optional<std::vector<std::string>> lines;
    if (StartsWith(entry, "cidr:{")) {
      lines = InlineCidr(entry, p);
    } else if (StartsWith(entry, "inline:{")) {
      lines = InlineTable(entry, p);
    } else if (StartsWith(entry, "cidr:")) {
      entries += "      - cidr:\n          path: " + YamlScalar(entry.substr(5)) + "\n";
      continue;
    } else {
      p.Warn("postscreen_access_list: " + entry +
             " is not supported (only permit_mynetworks, cidr: and inline: tables), skipped");
      continue;
    }
    if (!lines) continue;
    entries += "      - cidr:\n          lines:\n";
    for (const auto& l : *lines) entries += "            - " + YamlScalar(l) + "\n";
  }
  if (entries.empty()) {
    // An empty list would mean mxscreen's default (permit_mynetworks).
    if (!items.empty())
      p.Warn("postscreen_access_list: nothing could be imported, no access_cidr filter");
    return;
  }
  std::string action = Lower(p.Get("postscreen_denylist_action"));
  if (action != "ignore" && action != "enforce" && action != "drop") {
    p.Warn("postscreen_denylist_action = " + action +
           ": expected ignore, enforce or drop, imported as ignore");
    action = "ignore";
  }
  *yaml += "- name: access_cidr\n  action: " + action + "\n  typed_config:\n    access_list:\n";
  *yaml += entries;
  if (!nets.empty()) {
    *yaml += "    mynetworks:\n";
    for (const auto& n : nets) *yaml += "      - " + YamlScalar(n) + "\n";
  }
}

struct Registrar {
  Registrar() {
    PostfixImporterRegistry::Get().Register(PostfixImporter{
        "access_cidr",
        0,
        {{"postscreen_access_list", "permit_mynetworks"},
         {"postscreen_denylist_action",
          "${postscreen_blacklist_action?{$postscreen_blacklist_action}:{ignore}}"},
         {"mynetworks_style", "${{$compatibility_level} <level {2} ? {subnet} : {host}}"}},
        Translate});
  }
} registrar;

}  // namespace
}  // namespace mxs::access_cidr
