// bare_newline import: the bare newline test's share of `mxscreen
// import-postfix`. postscreen_bare_newline_enable/_action/_ttl become one
// bare_newline entry, and only when the test is enabled: Postfix's default is
// off, and a test that is not in the chain does not count against a client
// (what Postfix does for a disabled test).
#include <cctype>

#include "core/import_postfix.h"

namespace mxs::bare_newline {
namespace {

constexpr const char* kEnable = "postscreen_bare_newline_enable";
constexpr const char* kAction = "postscreen_bare_newline_action";
constexpr const char* kTtl = "postscreen_bare_newline_ttl";
constexpr const char* kDefaultAction = "ignore";
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
  *yaml += "- name: bare_newline\n  action: " + action + "\n  ttl: " + *ttl + "\n";
}

struct Registrar {
  Registrar() {
    // Order 40: first of the deep tests (then non_smtp 41, pipelining 42),
    // because postscreen sees a bare LF while it reads a line, before it
    // checks the command: the log lines of one line keep postscreen's order.
    PostfixImporterRegistry::Get().Register(
        PostfixImporter{"bare_newline",
                        40,
                        {{kEnable, "no"}, {kAction, kDefaultAction}, {kTtl, kDefaultTtl}},
                        Translate});
  }
} registrar;

}  // namespace
}  // namespace mxs::bare_newline
