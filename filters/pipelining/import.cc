// pipelining import: the pipelining test's share of `mxscreen import-postfix`.
// postscreen_pipelining_enable/_action/_ttl become one pipelining entry, and
// only when the test is enabled: Postfix's default is off, and a test that is
// not in the chain does not count against a client (what Postfix does for a
// disabled test).
#include <cctype>

#include "core/import_postfix.h"

namespace mxs::pipelining {
namespace {

constexpr const char* kEnable = "postscreen_pipelining_enable";
constexpr const char* kAction = "postscreen_pipelining_action";
constexpr const char* kTtl = "postscreen_pipelining_ttl";
constexpr const char* kDefaultAction = "enforce";
constexpr const char* kDefaultTtl = "30d";

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void Translate(const PostfixParams& p, std::string* yaml) {
  for (const char* n : {kEnable, kAction, kTtl}) p.MarkUsed(n);
  std::string enable = p.Get(kEnable);
  auto on = PostfixBool(enable);
  if (!on) {
    p.Warn(std::string(kEnable) + " = " + enable + ": expected yes or no, imported as no");
    return;
  }
  if (!*on) return;
  std::string action = Lower(p.Get(kAction));
  if (action != "ignore" && action != "enforce" && action != "drop") {
    p.Warn(std::string(kAction) + " = " + action +
           ": expected ignore, enforce or drop, imported as " + kDefaultAction);
    action = kDefaultAction;
  }
  std::string ttl_text = p.Get(kTtl);
  auto ttl = PostfixTime(ttl_text, 'd');
  // Postfix refuses a zero TTL ("Specify a non-zero time value"); the
  // helper returns digits and one unit letter.
  if (!ttl || ttl->find_first_not_of('0') == ttl->size() - 1) {
    p.Warn(std::string(kTtl) + " = " + ttl_text + ": expected a non-zero time value, imported as " +
           kDefaultTtl);
    ttl = kDefaultTtl;
  }
  *yaml += "- name: pipelining\n  action: " + action + "\n  ttl: " + *ttl + "\n";
}

struct Registrar {
  Registrar() {
    // Order 42: after the access list (0), pregreet (10) and the other deep
    // tests (bare_newline 40, non_smtp 41), the order in which postscreen
    // checks one command line, so the log lines of one line come out in
    // postscreen's order too.
    PostfixImporterRegistry::Get().Register(
        PostfixImporter{"pipelining",
                        42,
                        {{kEnable, "no"}, {kAction, kDefaultAction}, {kTtl, kDefaultTtl}},
                        Translate});
  }
} registrar;

}  // namespace
}  // namespace mxs::pipelining
