// postfix_conf: Postfix's file syntax and parameter expansion, following
// postconf(5) and master(5) (and checked against `postconf -x` of Postfix 3.7).
#include "core/postfix_conf.h"

#include <cctype>
#include <cstdlib>
#include <set>

namespace mxs::postfix {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::string Trim(const std::string& s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && IsSpace(s[b])) ++b;
  while (e > b && IsSpace(s[e - 1])) --e;
  return s.substr(b, e - b);
}

std::string Origin(const std::string& source, int line) {
  return source + ", line " + std::to_string(line);
}

// Postfix's logical lines: a line that starts with white space continues the
// previous one; comment and blank lines are skipped, even inside a
// continuation. Returns (first line number, joined text).
std::vector<std::pair<int, std::string>> LogicalLines(const std::string& text,
                                                      const std::string& source) {
  std::vector<std::pair<int, std::string>> out;
  size_t pos = 0;
  int number = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() + 1 : nl + 1;
    ++number;
    std::string trimmed = Trim(line);
    if (trimmed.empty() || trimmed[0] == '#') continue;
    if (IsSpace(line[0])) {
      if (out.empty()) {
        throw ParseError(Origin(source, number) + ": continuation line without a line to continue");
      }
      out.back().second += " " + trimmed;
    } else {
      out.emplace_back(number, Trim(line));
    }
  }
  return out;
}

// The index just past the brace that closes the one at text[open].
size_t MatchBrace(const std::string& text, size_t open, char o, char c) {
  int depth = 0;
  for (size_t i = open; i < text.size(); ++i) {
    if (text[i] == o) ++depth;
    if (text[i] == c && --depth == 0) return i + 1;
  }
  return std::string::npos;
}

class Expander {
 public:
  explicit Expander(const RawLookup& lookup) : lookup_(lookup) {}

  std::string Run(const std::string& text, int depth) {
    if (depth > 100)
      throw std::runtime_error("unreasonable macro call nesting in \"" + text + "\"");
    std::string out;
    for (size_t i = 0; i < text.size();) {
      char c = text[i];
      if (c == '$' && i + 1 >= text.size()) {
        throw std::runtime_error("empty macro name in \"" + text + "\" (write $$ for a '$')");
      }
      if (c != '$') {
        out += c;
        ++i;
        continue;
      }
      char n = text[i + 1];
      if (n == '$') {
        out += '$';
        i += 2;
      } else if (n == '{' || n == '(') {
        char close = n == '{' ? '}' : ')';
        size_t end = MatchBrace(text, i + 1, n, close);
        if (end == std::string::npos) {
          throw std::runtime_error("missing '" + std::string(1, close) + "' in \"" + text + "\"");
        }
        out += Macro(text.substr(i + 2, end - i - 3), depth);
        i = end;
      } else if (IsNameChar(n)) {
        size_t end = i + 1;
        while (end < text.size() && IsNameChar(text[end])) ++end;
        out += Value(text.substr(i + 1, end - i - 1), depth);
        i = end;
      } else {
        throw std::runtime_error("empty macro name in \"" + text + "\" (write $$ for a '$')");
      }
    }
    return out;
  }

 private:
  std::string Value(const std::string& name, int depth) {
    auto raw = lookup_(name);
    return raw ? Run(*raw, depth + 1) : std::string();
  }

  static void SkipSpace(const std::string& s, size_t* i) {
    while (*i < s.size() && IsSpace(s[*i])) ++*i;
  }

  // "{text}" at *i: returns text and moves past it.
  static std::string Braced(const std::string& body, size_t* i) {
    size_t end = MatchBrace(body, *i, '{', '}');
    if (end == std::string::npos) throw std::runtime_error("missing '}' in \"${" + body + "}\"");
    std::string inner = Trim(body.substr(*i + 1, end - *i - 2));
    *i = end;
    return inner;
  }

  // The "value1[:value2]" part after '?' or ':' (or after a relation).
  static void Branches(const std::string& body, size_t i, bool allow_else, std::string* v1,
                       std::optional<std::string>* v2) {
    SkipSpace(body, &i);
    if (i >= body.size() || body[i] != '{') {
      *v1 = body.substr(i);  // the legacy form takes the rest, colons included
      return;
    }
    *v1 = Braced(body, &i);
    SkipSpace(body, &i);
    if (i >= body.size()) return;
    if (!allow_else || body[i] != ':') {
      throw std::runtime_error("unexpected \"" + body.substr(i) + "\" in \"${" + body + "}\"");
    }
    ++i;
    SkipSpace(body, &i);
    if (i < body.size() && body[i] == '{') {
      *v2 = Braced(body, &i);
    } else {
      *v2 = Trim(body.substr(i));
      i = body.size();
    }
    SkipSpace(body, &i);
    if (i < body.size()) throw std::runtime_error("unexpected text in \"${" + body + "}\"");
  }

  std::string Macro(const std::string& body, int depth) {
    size_t i = 0;
    SkipSpace(body, &i);
    if (i < body.size() && body[i] == '{') return Relation(body, i, depth);
    size_t start = i;
    while (i < body.size() && IsNameChar(body[i])) ++i;
    std::string name = body.substr(start, i - start);
    if (name.empty()) throw std::runtime_error("bad parameter name in \"${" + body + "}\"");
    SkipSpace(body, &i);
    if (i == body.size()) return Value(name, depth);
    char op = body[i];
    if (op != '?' && op != ':') throw std::runtime_error("bad macro syntax \"${" + body + "}\"");
    std::string v1;
    std::optional<std::string> v2;
    Branches(body, i + 1, op == '?', &v1, &v2);
    // Postfix tests the parameter's value as stored, before expansion.
    auto raw = lookup_(name);
    bool set = raw && !raw->empty();
    if (op == ':') return set ? std::string() : Run(v1, depth + 1);
    if (set) return Run(v1, depth + 1);
    return v2 ? Run(*v2, depth + 1) : std::string();
  }

  static bool AllDigits(const std::string& s) {
    if (s.empty()) return false;
    for (char c : s) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
  }

  // Compatibility levels compare field by field: 3.10 is above 3.6.
  static int CompareLevels(const std::string& a, const std::string& b) {
    size_t i = 0;
    size_t j = 0;
    while (i < a.size() || j < b.size()) {
      unsigned long x = std::strtoul(a.c_str() + i, nullptr, 10);
      unsigned long y = std::strtoul(b.c_str() + j, nullptr, 10);
      if (x != y) return x < y ? -1 : 1;
      i = a.find('.', i);
      j = b.find('.', j);
      i = i == std::string::npos ? a.size() : i + 1;
      j = j == std::string::npos ? b.size() : j + 1;
    }
    return 0;
  }

  std::string Relation(const std::string& body, size_t i, int depth) {
    std::string left = Run(Braced(body, &i), depth + 1);
    SkipSpace(body, &i);
    size_t op_start = i;
    while (i < body.size() && std::string("=!<>").find(body[i]) != std::string::npos) ++i;
    std::string op = body.substr(op_start, i - op_start);
    bool level = body.compare(i, 5, "level") == 0;
    if (level) i += 5;
    SkipSpace(body, &i);
    if (i >= body.size() || body[i] != '{') {
      throw std::runtime_error("bad relational expression \"${" + body + "}\"");
    }
    std::string right = Run(Braced(body, &i), depth + 1);
    SkipSpace(body, &i);
    if (i >= body.size() || body[i] != '?') {
      throw std::runtime_error("missing '?' in \"${" + body + "}\"");
    }
    std::string v1;
    std::optional<std::string> v2;
    Branches(body, i + 1, true, &v1, &v2);
    int cmp;
    if (level) {
      cmp = CompareLevels(left, right);
    } else if (AllDigits(left) && AllDigits(right)) {
      unsigned long long x = std::strtoull(left.c_str(), nullptr, 10);
      unsigned long long y = std::strtoull(right.c_str(), nullptr, 10);
      cmp = x < y ? -1 : x > y ? 1 : 0;
    } else {
      cmp = left.compare(right) < 0 ? -1 : left == right ? 0 : 1;
    }
    bool result;
    if (op == "==") {
      result = cmp == 0;
    } else if (op == "!=") {
      result = cmp != 0;
    } else if (op == "<") {
      result = cmp < 0;
    } else if (op == "<=") {
      result = cmp <= 0;
    } else if (op == ">") {
      result = cmp > 0;
    } else if (op == ">=") {
      result = cmp >= 0;
    } else {
      throw std::runtime_error("unknown operator \"" + op + "\" in \"${" + body + "}\"");
    }
    if (result) return Run(v1, depth + 1);
    return v2 ? Run(*v2, depth + 1) : std::string();
  }

  const RawLookup& lookup_;
};

// master(5): "{ text }" protects white space in one argument.
std::vector<std::pair<std::string, bool>> CommandTokens(const std::string& text,
                                                        const std::string& origin) {
  std::vector<std::pair<std::string, bool>> out;
  size_t i = 0;
  while (true) {
    while (i < text.size() && IsSpace(text[i])) ++i;
    if (i >= text.size()) break;
    if (text[i] == '{') {
      size_t end = MatchBrace(text, i, '{', '}');
      if (end == std::string::npos) throw ParseError(origin + ": missing '}' in \"" + text + "\"");
      out.emplace_back(Trim(text.substr(i + 1, end - i - 2)), true);
      i = end;
    } else {
      size_t end = i;
      while (end < text.size() && !IsSpace(text[end])) ++end;
      out.emplace_back(text.substr(i, end - i), false);
      i = end;
    }
  }
  return out;
}

// zmprov arguments are shell words.
std::vector<std::string> ShellWords(const std::string& line, const std::string& origin) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (IsSpace(c)) {
      if (in_word) words.push_back(cur);
      cur.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\'') {
      size_t end = line.find('\'', i + 1);
      if (end == std::string::npos) throw ParseError(origin + ": unbalanced ' quote");
      cur += line.substr(i + 1, end - i - 1);
      i = end;
    } else if (c == '"') {
      size_t j = i + 1;
      for (; j < line.size() && line[j] != '"'; ++j) {
        if (line[j] == '\\' && j + 1 < line.size()) ++j;
        cur += line[j];
      }
      if (j >= line.size()) throw ParseError(origin + ": unbalanced \" quote");
      i = j;
    } else if (c == '\\' && i + 1 < line.size()) {
      cur += line[++i];
    } else {
      cur += c;
    }
  }
  if (in_word) words.push_back(cur);
  return words;
}

}  // namespace

void Settings::Set(const std::string& name, std::string value, std::string origin) {
  auto it = values_.find(name);
  if (it != values_.end()) {
    for (auto o = order_.begin(); o != order_.end(); ++o) {
      if (*o == name) {
        order_.erase(o);
        break;
      }
    }
  }
  order_.push_back(name);
  values_[name] = Setting{std::move(value), std::move(origin)};
}

const Setting* Settings::Find(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second;
}

Settings ParseMainCf(const std::string& text, const std::string& source) {
  Settings out;
  for (const auto& [number, line] : LogicalLines(text, source)) {
    size_t eq = line.find('=');
    std::string name = Trim(line.substr(0, eq));
    if (eq == std::string::npos) {
      throw ParseError(Origin(source, number) + ": missing '=' after parameter name \"" + name +
                       "\"");
    }
    bool ok = !name.empty();
    for (char c : name) ok = ok && !IsSpace(c);
    if (!ok) throw ParseError(Origin(source, number) + ": bad parameter name \"" + name + "\"");
    out.Set(name, Trim(line.substr(eq + 1)), Origin(source, number));
  }
  return out;
}

std::vector<MasterService> ParseMasterCf(const std::string& text, const std::string& source) {
  static const std::set<std::string> kTypes = {"inet", "unix", "unix-dgram", "fifo", "pass"};
  std::vector<MasterService> out;
  for (const auto& [number, line] : LogicalLines(text, source)) {
    std::string origin = Origin(source, number);
    std::vector<std::string> fields;
    size_t i = 0;
    while (fields.size() < 7) {
      while (i < line.size() && IsSpace(line[i])) ++i;
      if (i >= line.size()) break;
      size_t end = i;
      while (end < line.size() && !IsSpace(line[end])) ++end;
      fields.push_back(line.substr(i, end - i));
      i = end;
    }
    std::string rest = Trim(i < line.size() ? line.substr(i) : "");
    if (fields.size() < 7 || rest.empty()) {
      throw ParseError(origin +
                       ": expected 8 fields (service type private unpriv chroot wakeup "
                       "maxproc command), got \"" +
                       line + "\"");
    }
    if (kTypes.count(fields[1]) == 0) {
      throw ParseError(origin + ": unknown service type \"" + fields[1] + "\"");
    }
    MasterService svc;
    svc.name = fields[0];
    svc.type = fields[1];
    svc.origin = origin;
    std::string program = rest.substr(0, rest.find_first_of(" \t"));
    svc.command = program.substr(program.rfind('/') + 1);
    if (svc.command == "postscreen") {
      auto tokens = CommandTokens(rest, origin);
      for (size_t t = 1; t < tokens.size(); ++t) {
        if (tokens[t].second || tokens[t].first != "-o") continue;
        if (t + 1 >= tokens.size()) throw ParseError(origin + ": -o without name=value");
        const auto& [arg, braced] = tokens[++t];
        size_t eq = arg.find('=');
        std::string name = Trim(arg.substr(0, eq));
        if (eq == std::string::npos || name.empty()) {
          throw ParseError(origin + ": expected -o name=value, got \"-o " + arg + "\"");
        }
        // The short form must not have white space around '='; the long
        // form ignores it.
        std::string value = braced ? Trim(arg.substr(eq + 1)) : arg.substr(eq + 1);
        svc.overrides.Set(name, value, origin);
      }
    }
    for (auto it = out.begin(); it != out.end(); ++it) {
      if (it->name == svc.name && it->type == svc.type) {
        out.erase(it);
        break;
      }
    }
    out.push_back(std::move(svc));
  }
  return out;
}

std::string ZimbraToPostfixName(const std::string& attribute) {
  // Where the generic rule gives the wrong name: Zimbra kept Postfix's names
  // from before 3.6 (which renamed black/whitelist), and mynetworks is not a
  // postscreen attribute but decides permit_mynetworks.
  static const std::map<std::string, std::string> kExceptions = {
      {"zimbraMtaPostscreenBlacklistAction", "postscreen_denylist_action"},
      {"zimbraMtaPostscreenDnsblWhitelistThreshold", "postscreen_dnsbl_allowlist_threshold"},
      {"zimbraMtaPostscreenWhitelistInterfaces", "postscreen_allowlist_interfaces"},
      {"zimbraMtaMyNetworks", "mynetworks"},
  };
  if (auto it = kExceptions.find(attribute); it != kExceptions.end()) return it->second;
  static const std::string kPrefix = "zimbraMtaPostscreen";
  if (attribute.compare(0, kPrefix.size(), kPrefix) != 0 || attribute.size() == kPrefix.size()) {
    return "";
  }
  // CamelCase -> snake_case; a run of capitals is one word (MinTTL -> min_ttl).
  std::string camel = attribute.substr(kPrefix.size());
  std::string out = "postscreen";
  for (size_t i = 0; i < camel.size(); ++i) {
    char c = camel[i];
    bool upper = std::isupper(static_cast<unsigned char>(c));
    if (upper) {
      bool prev_lower = i > 0 && !std::isupper(static_cast<unsigned char>(camel[i - 1]));
      bool next_lower =
          i + 1 < camel.size() && std::islower(static_cast<unsigned char>(camel[i + 1]));
      bool prev_upper = i > 0 && std::isupper(static_cast<unsigned char>(camel[i - 1]));
      if (i == 0 || prev_lower || (prev_upper && next_lower)) out += '_';
    }
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

Settings ParseZmprov(const std::string& text, const std::string& source,
                     std::vector<std::string>* notes) {
  std::map<std::string, std::vector<std::string>> values;
  std::map<std::string, std::string> origins;
  std::vector<std::string> order;
  std::set<std::string> in_command;  // attributes already given in this command
  auto apply = [&](std::string name, const std::string& value, const std::string& origin,
                   bool append) {
    char sign = name.empty() ? 0 : name[0];
    if (sign == '+' || sign == '-') name = name.substr(1);
    auto& v = values[name];
    if (sign == '-') {
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (*it == value) {
          v.erase(it);
          break;
        }
      }
    } else {
      // Repeating an attribute within one command gives it several values.
      if (sign != '+' && !append && in_command.insert(name).second) v.clear();
      v.push_back(value);
    }
    if (origins.count(name) == 0) order.push_back(name);
    origins[name] = origin;
  };

  // Join backslash continuations first; remember each logical line's number.
  std::vector<std::pair<int, std::string>> lines;
  size_t pos = 0;
  int number = 0;
  bool continued = false;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    bool cont = !line.empty() && line.back() == '\\';
    if (cont) line.pop_back();
    if (continued) {
      lines.back().second += " " + line;
    } else {
      lines.emplace_back(number, line);
    }
    continued = cont;
  }

  for (const auto& [line_number, line] : lines) {
    std::string origin = Origin(source, line_number);
    std::string trimmed = Trim(line);
    if (trimmed.empty() || trimmed[0] == '#') continue;
    // `zmprov gacf` output: "NAME: VALUE", one line per value.
    size_t colon = trimmed.find(':');
    if (trimmed.compare(0, 6, "zimbra") == 0 && colon != std::string::npos &&
        trimmed.find_first_of(" \t") > colon) {
      apply(trimmed.substr(0, colon), Trim(trimmed.substr(colon + 1)), origin, true);
      continue;
    }
    auto words = ShellWords(trimmed, origin);
    size_t w = 0;
    if (words[w] == "zmprov") {
      ++w;
      while (w < words.size() && words[w][0] == '-') ++w;  // options such as -l
      if (w >= words.size() || (words[w] != "mcf" && words[w] != "modifyConfig")) {
        notes->push_back(origin + ": not a `zmprov mcf` command, skipped");
        continue;
      }
      ++w;
      in_command.clear();
    } else if (words[w] == "mcf" || words[w] == "modifyConfig") {
      ++w;
      in_command.clear();
    }
    // Anything else continues the previous command: Zimbra's own examples
    // wrap long mcf commands onto lines that start with the next attribute.
    if ((words.size() - w) % 2 != 0) {
      throw ParseError(origin + ": attribute \"" + words.back() + "\" without a value");
    }
    for (; w < words.size(); w += 2) {
      const std::string& attr = words[w];
      std::string bare = attr[0] == '+' || attr[0] == '-' ? attr.substr(1) : attr;
      if (bare.compare(0, 6, "zimbra") != 0) {
        throw ParseError(origin + ": expected a zimbra attribute name, got \"" + attr + "\"");
      }
      apply(attr, words[w + 1], origin, false);
    }
  }

  Settings out;
  for (const auto& attr : order) {
    std::string name = ZimbraToPostfixName(attr);
    if (name.empty()) continue;
    std::string joined;
    for (const auto& v : values[attr]) joined += (joined.empty() ? "" : ", ") + v;
    out.Set(name, joined, origins[attr] + " (" + attr + ")");
  }
  return out;
}

std::string Expand(const std::string& text, const RawLookup& lookup) {
  return Expander(lookup).Run(text, 0);
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (char c : text) {
    if (depth == 0 && (IsSpace(c) || c == ',')) {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
      continue;
    }
    if (c == '{') ++depth;
    if (c == '}' && depth > 0) --depth;
    cur += c;
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

}  // namespace mxs::postfix
