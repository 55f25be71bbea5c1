// bare_newline import: the bare newline test's share of `mxscreen
// import-postfix`. postscreen_bare_newline_enable/_action/_ttl become one
// bare_newline entry, and only when the test is enabled: Postfix's default is
// off, and a test that is not in the chain does not count against a client
// (what Postfix does for a disabled test).
#include "core/import_postfix.h"

namespace mxs::bare_newline {
namespace {

constexpr const char* kEnable = "postscreen_bare_newline_enable";
constexpr const char* kAction = "postscreen_bare_newline_action";
constexpr const char* kTtl = "postscreen_bare_newline_ttl";
constexpr const char* kDefaultAction = "ignore";
constexpr const char* kDefaultTtl = "30d";

void Translate(const PostfixParams& p, std::string* yaml) {
  auto entry = ImportPostfixTest(p, {kEnable, kAction, kTtl, kDefaultAction, kDefaultTtl});
  if (entry) *yaml += PostfixTestYaml("bare_newline", *entry);
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
