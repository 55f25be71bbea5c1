// pipelining import: the pipelining test's share of `mxscreen import-postfix`.
// postscreen_pipelining_enable/_action/_ttl become one pipelining entry, and
// only when the test is enabled: Postfix's default is off, and a test that is
// not in the chain does not count against a client (what Postfix does for a
// disabled test).
#include "core/import_postfix.h"

namespace mxs::pipelining {
namespace {

constexpr const char* kEnable = "postscreen_pipelining_enable";
constexpr const char* kAction = "postscreen_pipelining_action";
constexpr const char* kTtl = "postscreen_pipelining_ttl";
constexpr const char* kDefaultAction = "enforce";
constexpr const char* kDefaultTtl = "30d";

void Translate(const PostfixParams& p, std::string* yaml) {
  auto entry = ImportPostfixTest(p, {kEnable, kAction, kTtl, kDefaultAction, kDefaultTtl});
  if (entry) *yaml += PostfixTestYaml("pipelining", *entry);
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
