// non_smtp import: the non-SMTP command test's share of `mxscreen
// import-postfix`. postscreen_non_smtp_command_enable/_action/_ttl and
// postscreen_forbidden_commands (default $smtpd_forbidden_commands) become one
// non_smtp entry, and only when the test is enabled: Postfix's default is off,
// and a test that is not in the chain does not count against a client.
// Command names carry over as they are, regexp: tables (inline or a readable
// file) as "/pattern/" entries, inline: tables as their keys; other lookup
// tables cannot be read here and are warned about.
#include <cctype>
#include <fstream>
#include <optional>

#include "core/import_postfix.h"
#include "filters/non_smtp/non_smtp.h"

namespace mxs::non_smtp {
namespace {

constexpr const char* kEnable = "postscreen_non_smtp_command_enable";
constexpr const char* kAction = "postscreen_non_smtp_command_action";
constexpr const char* kTtl = "postscreen_non_smtp_command_ttl";
constexpr const char* kForbidden = "postscreen_forbidden_commands";
constexpr const char* kDefaultAction = "drop";
constexpr const char* kDefaultTtl = "30d";

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

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

// "type:rest" when `item` names a lookup table; nullopt for a command name
// (which may itself contain a colon, e.g. "Subject:").
std::optional<std::pair<std::string, std::string>> TableOf(const std::string& item) {
  size_t colon = item.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= item.size()) return std::nullopt;
  for (size_t i = 0; i < colon; ++i) {
    if (!std::isalnum(static_cast<unsigned char>(item[i]))) return std::nullopt;
  }
  if (item[colon + 1] != '/' && item[colon + 1] != '{') return std::nullopt;
  return std::make_pair(Lower(item.substr(0, colon)), item.substr(colon + 1));
}

// One rule of a regexp: table, "/pattern/flags result", as a "/pattern/"
// entry. Postfix matches any rule with a result as a forbidden command.
std::optional<std::string> RegexpRule(const std::string& rule, const std::string& table,
                                      const PostfixParams& p) {
  auto skip = [&](const std::string& why) -> std::optional<std::string> {
    p.Warn(std::string(kForbidden) + ": " + table + ": rule \"" + rule + "\" " + why + ", skipped");
    return std::nullopt;
  };
  if (rule.empty()) return skip("is empty");
  if (rule[0] != '/') {
    if (rule[0] == '!') return skip("is negated (not supported)");
    std::string first = Lower(rule.substr(0, rule.find_first_of(" \t")));
    if (first == "if" || first == "endif") return skip("is an if/endif block (not supported)");
    return skip("does not start with /pattern/");
  }
  // The pattern ends at the next '/' that is not escaped with a backslash.
  size_t end = 1;
  for (; end < rule.size() && rule[end] != '/'; ++end) {
    if (rule[end] == '\\' && end + 1 < rule.size()) ++end;
  }
  if (end >= rule.size() || end == 1) return skip("has no /pattern/");
  size_t flags_end = rule.find_first_of(" \t", end + 1);
  std::string flags = rule.substr(
      end + 1, flags_end == std::string::npos ? std::string::npos : flags_end - end - 1);
  // i and x toggle case-insensitive and extended syntax, which mxscreen
  // always uses; m (multi-line) means nothing for one command name.
  if (flags.find_first_not_of("m") != std::string::npos) {
    return skip("has flags \"" + flags + "\" (only the default, case-insensitive extended syntax)");
  }
  if (flags_end == std::string::npos || Trim(rule.substr(flags_end)).empty()) {
    return skip("has no result (Postfix refuses it)");
  }
  return rule.substr(0, end + 1);
}

// The rules of a regexp: table file: "#" comments, blank lines, and lines
// starting with white space continuing the previous one.
std::optional<std::vector<std::string>> RegexpFileRules(const std::string& path,
                                                        const PostfixParams& p) {
  std::ifstream in(path);
  if (!in) {
    p.Warn(std::string(kForbidden) + ": cannot read regexp:" + path + " here, skipped");
    return std::nullopt;
  }
  std::vector<std::string> rules;
  for (std::string line; std::getline(in, line);) {
    std::string t = Trim(line);
    if (t.empty() || t[0] == '#') continue;
    if ((line[0] == ' ' || line[0] == '\t') && !rules.empty()) {
      rules.back() += " " + t;
    } else {
      rules.push_back(t);
    }
  }
  return rules;
}

// postscreen_forbidden_commands as forbidden_commands entries.
std::vector<std::string> Entries(const std::string& value, const PostfixParams& p) {
  std::vector<std::string> out;
  for (const auto& item : SplitPostfixList(value)) {
    auto table = TableOf(item);
    if (!table) {
      if (item[0] == '!') {
        p.Warn(std::string(kForbidden) + ": \"" + item + "\": negation is not supported, skipped");
      } else {
        out.push_back(item);
      }
      continue;
    }
    const auto& [type, rest] = *table;
    if (type == "regexp") {
      std::vector<std::string> rules;
      if (rest[0] == '{') {
        for (const auto& r : SplitPostfixList(Unbrace(rest))) rules.push_back(Unbrace(r));
      } else if (auto file = RegexpFileRules(rest, p)) {
        rules = *file;
      }
      for (const auto& r : rules) {
        if (auto e = RegexpRule(r, item, p)) out.push_back(*e);
      }
    } else if (type == "inline" && rest[0] == '{') {
      // An exact-match table keyed by the command name.
      for (const auto& kv : SplitPostfixList(Unbrace(rest))) {
        std::string pair = Unbrace(kv);
        std::string key = Trim(pair.substr(0, pair.find('=')));
        if (!key.empty()) out.push_back(key);
      }
    } else {
      p.Warn(std::string(kForbidden) + ": " + item +
             " is not supported (command names, regexp: and inline: tables only), skipped");
    }
  }
  return out;
}

void Translate(const PostfixParams& p, std::string* yaml) {
  p.MarkUsed(kForbidden);
  auto entry = ImportPostfixTest(p, {kEnable, kAction, kTtl, kDefaultAction, kDefaultTtl});
  if (!entry) return;
  *yaml += PostfixTestYaml("non_smtp", *entry);

  std::string value = p.Get(kForbidden);
  std::vector<std::string> entries = Entries(value, p);
  if (entries == ForbiddenCommands::Defaults()) return;
  if (entries.empty()) {
    if (!Trim(value).empty()) {
      p.Warn(std::string(kForbidden) +
             ": nothing could be imported, only header lines fail the non_smtp test");
    }
    *yaml += "  typed_config:\n    no_forbidden_commands: true\n";
    return;
  }
  // Refused here, naming the setting, rather than by `mxscreen validate`.
  std::vector<std::string> usable;
  for (const auto& e : entries) {
    try {
      ForbiddenCommands check({e});
      usable.push_back(e);
    } catch (const BadForbiddenCommand& bad) {
      p.Warn(std::string(kForbidden) + ": " + bad.what() + ", skipped");
    }
  }
  if (usable.empty()) {
    *yaml += "  typed_config:\n    no_forbidden_commands: true\n";
    return;
  }
  *yaml += "  typed_config:\n    forbidden_commands:\n";
  for (const auto& e : usable) *yaml += "      - " + YamlScalar(e) + "\n";
}

struct Registrar {
  Registrar() {
    // Order 41: after bare_newline (40), before pipelining (42), the order in
    // which postscreen checks one command line.
    PostfixImporterRegistry::Get().Register(PostfixImporter{
        "non_smtp",
        41,
        {{kEnable, "no"},
         {kAction, kDefaultAction},
         {kTtl, kDefaultTtl},
         {kForbidden, "$smtpd_forbidden_commands"},
         {"smtpd_forbidden_commands", "CONNECT GET POST regexp:{{/^[^A-Z]/ Bogus}}"}},
        Translate});
  }
} registrar;

}  // namespace
}  // namespace mxs::non_smtp
