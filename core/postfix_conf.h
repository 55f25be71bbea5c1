// postfix_conf: reading Postfix's own configuration the way Postfix reads it,
// for `mxscreen import-postfix`: main.cf (logical lines, last definition
// wins), master.cf (services and their -o overrides), Zimbra zmprov lines, and
// the $name / ${name?{a}:{b}} / ${{a} op {b} ? ...} expansion of values.
// Knows nothing about mxscreen's config: import_postfix.cc does the mapping.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace mxs::postfix {

// Input that Postfix itself would refuse; the text names the file and line.
class ParseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Setting {
  std::string value;   // as written, not expanded
  std::string origin;  // "FILE, line N", for warnings
};

// Parameter settings in definition order; a later definition replaces an
// earlier one (and moves to its place in the order), as in main.cf.
class Settings {
 public:
  void Set(const std::string& name, std::string value, std::string origin);
  const Setting* Find(const std::string& name) const;
  const std::vector<std::string>& order() const { return order_; }

 private:
  std::map<std::string, Setting> values_;
  std::vector<std::string> order_;
};

Settings ParseMainCf(const std::string& text, const std::string& source);

struct MasterService {
  std::string name;     // "smtp", "2525", "127.0.0.1:2525", "[::1]:25"
  std::string type;     // "inet", "unix", "pass", ...
  std::string command;  // the program, e.g. "postscreen"
  std::string origin;   // "FILE, line N"
  Settings overrides;   // the -o name=value options
};

// Every service, in file order; a later line for the same name and type
// replaces the earlier one. The -o options are parsed only for postscreen
// services (other daemons' arguments are not ours to judge).
std::vector<MasterService> ParseMasterCf(const std::string& text, const std::string& source);

// zimbraMtaPostscreenDnsblSites -> postscreen_dnsbl_sites; "" when the
// attribute has no Postfix parameter that the import cares about.
std::string ZimbraToPostfixName(const std::string& attribute);

// `zmprov mcf NAME VALUE [NAME VALUE...]` commands (also `+NAME` to add a
// value, `-NAME` to remove one, and `zmprov gacf` output lines "NAME: VALUE").
// A multi-valued attribute becomes a comma-separated Postfix list. Lines that
// are not mcf commands are reported in *notes and skipped.
Settings ParseZmprov(const std::string& text, const std::string& source,
                     std::vector<std::string>* notes);

// The raw (unexpanded) value of a parameter, or nullopt when it has none.
using RawLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Expands $name, ${name}, $(name), ${name?value}, ${name:value},
// ${name?{v1}:{v2}}, ${{a} OP {b} ? {v1} : {v2}} and $$ recursively. Throws
// std::runtime_error on bad syntax or a reference loop.
std::string Expand(const std::string& text, const RawLookup& lookup);

// Splits a Postfix list: commas and white space separate, "{...}" keeps its
// contents (with separators) in one item.
std::vector<std::string> SplitList(const std::string& text);

}  // namespace mxs::postfix
