// import_postfix: `mxscreen import-postfix`: reads an existing Postfix setup
// (main.cf, optionally master.cf and Zimbra zmprov lines) and prints the
// equivalent mxscreen YAML. The core resolves parameters ($name references,
// Postfix defaults, ${stress?...}); each filter translates its own parameters
// through a PostfixImporter registered from its own folder, so this file names
// no filter. Parameters nobody translates are warned about, never dropped.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

namespace mxs {

struct ImportPostfixOptions {
  std::string main_cf;
  std::string master_cf;
  std::string zmprov;
  std::string backend = "127.0.0.1:10025";
};

// The resolved parameters of one postscreen service (main.cf with the
// service's -o overrides applied), as a filter importer sees them.
class PostfixParams {
 public:
  virtual ~PostfixParams() = default;
  // The fully expanded value ($name references and ${stress?...} resolved for
  // normal operation), or the Postfix default when not set.
  virtual std::string Get(const std::string& name) const = 0;
  // The value under stress (${stress?{x}:{y}} takes x).
  virtual std::string GetStress(const std::string& name) const = 0;
  // True when main.cf, master.cf or zmprov set it explicitly.
  virtual bool IsSet(const std::string& name) const = 0;
  // Marks a parameter as translated, so it is not warned about.
  virtual void MarkUsed(const std::string& name) const = 0;
  virtual void Warn(const std::string& message) const = 0;
};

// One filter's share of the import: appends the YAML of its filter entry as
// one list item starting at column 0 ("- name: x\n  typed_config:\n ...";
// the core indents it under the listener's `filters:`), or nothing if the
// filter is not in use. Registered with its parameters' Postfix defaults.
struct PostfixImporter {
  std::string filter_name;
  int order;  // position in the chain (access list first)
  std::map<std::string, std::string> defaults;
  std::function<void(const PostfixParams&, std::string* yaml)> translate;
};

class PostfixImporterRegistry {
 public:
  static PostfixImporterRegistry& Get();
  void Register(PostfixImporter importer);
  const std::vector<PostfixImporter>& importers() const { return importers_; }

 private:
  std::vector<PostfixImporter> importers_;
};

// Helpers for importers, so that every filter writes values the same way.
// A YAML scalar, double-quoted unless it is plainly safe ("drop", "/a/b").
std::string YamlScalar(const std::string& text);
// A Postfix list ("a, b c" and "{...}" kept whole).
std::vector<std::string> SplitPostfixList(const std::string& text);
// A Postfix boolean ("yes"/"no", any case); nullopt when neither.
std::optional<bool> PostfixBool(const std::string& text);
// A Postfix time value ("30", "30s", "5m") as an mxscreen duration, the unit
// made explicit ("30" with default unit 'd' -> "30d"); nullopt when malformed.
std::optional<std::string> PostfixTime(const std::string& text, char default_unit);

// The switch, action and TTL parameters of one postscreen test, which every
// such filter entry carries over the same way. The filter passes its own
// parameter names and Postfix defaults.
struct PostfixTestParams {
  std::string enable;  // "postscreen_x_enable"; empty when the test has no switch
  std::string action;  // "postscreen_x_action": ignore, enforce or drop
  std::string ttl;     // "postscreen_x_ttl": a non-zero Postfix time, unit 'd'
  std::string default_action;
  std::string default_ttl;
};

// The action and TTL of an enabled test, as they go into its entry.
struct PostfixTestEntry {
  std::string action;
  std::string ttl;
};

// Marks the parameters used and reads them: nullopt when the test is switched
// off (warned about when the switch is neither yes nor no, imported as no); a
// bad action or TTL is warned about and replaced by the default.
std::optional<PostfixTestEntry> ImportPostfixTest(const PostfixParams& p,
                                                  const PostfixTestParams& names);
// The start of the filter's entry: "- name: <filter>", "  enabled: false"
// when !enabled, "  action: <action>", "  ttl: <ttl>", one line each.
std::string PostfixTestYaml(const std::string& filter_name, const PostfixTestEntry& entry,
                            bool enabled = true);

// Prints the YAML on `out` and one "warning: ..." line per unsupported or
// approximated setting on `err`. Returns 0 (also with warnings), 1 when a
// file cannot be read, 2 for bad usage or input that Postfix would refuse.
int RunImportPostfix(const ImportPostfixOptions& options, std::ostream& out, std::ostream& err);

}  // namespace mxs
