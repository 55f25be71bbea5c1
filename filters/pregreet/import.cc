// pregreet import: the pregreet test's share of `mxscreen import-postfix`.
// postscreen_greet_action/_ttl become the entry's action and ttl,
// postscreen_greet_banner its teaser (left out when it is smtpd_banner, which
// the listener's banner already carries); an empty banner is how Postfix
// switches the test off, written here as `enabled: false`. The test is on in
// Postfix's defaults, so the entry is always written.
//
// postscreen_greet_wait is not translated here: it belongs to the listener
// (greet_wait, greet_wait_stress; the DNSBL test uses the same wait) and an
// importer can only add its filter entry, so the core writes it.
#include "core/import_postfix.h"

namespace mxs::pregreet {
namespace {

constexpr const char* kAction = "postscreen_greet_action";
constexpr const char* kTtl = "postscreen_greet_ttl";
constexpr const char* kBanner = "postscreen_greet_banner";
constexpr const char* kDefaultAction = "ignore";
constexpr const char* kDefaultTtl = "1d";

void Translate(const PostfixParams& p, std::string* yaml) {
  p.MarkUsed(kBanner);
  // No switch: the test is on unless the banner is empty.
  auto entry = ImportPostfixTest(p, {"", kAction, kTtl, kDefaultAction, kDefaultTtl});
  std::string banner = p.Get(kBanner);
  *yaml += PostfixTestYaml("pregreet", *entry, !banner.empty());
  if (!banner.empty() && banner != p.Get("smtpd_banner")) {
    *yaml += "  typed_config:\n    banner: " + YamlScalar(banner) + "\n";
  }
}

struct Registrar {
  Registrar() {
    // Order 10: after the access list (0), before the deep tests (40-42).
    PostfixImporterRegistry::Get().Register(PostfixImporter{
        "pregreet",
        10,
        {{kAction, kDefaultAction}, {kTtl, kDefaultTtl}, {kBanner, "$smtpd_banner"}},
        Translate});
  }
} registrar;

}  // namespace
}  // namespace mxs::pregreet
