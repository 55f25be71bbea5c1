// upstream_proxy import: the upstream PROXY protocol's share of `mxscreen
// import-postfix`. postscreen_upstream_proxy_protocol = haproxy (Postfix's
// only value; empty, the default, is off) becomes an upstream_proxy entry, and
// postscreen_upstream_proxy_timeout (default 5s) its timeout when it is not
// the default. The entry goes first: it runs before every other filter anyway
// (listener phase), and the YAML reads in the order things happen.
#include "core/duration.h"
#include "core/import_postfix.h"

namespace mxs::upstream_proxy {
namespace {

constexpr const char* kProtocol = "postscreen_upstream_proxy_protocol";
constexpr const char* kTimeout = "postscreen_upstream_proxy_timeout";
constexpr const char* kDefaultTimeout = "5s";

void Translate(const PostfixParams& p, std::string* yaml) {
  p.MarkUsed(kProtocol);
  p.MarkUsed(kTimeout);
  std::string protocol = p.Get(kProtocol);
  if (protocol.empty()) return;
  if (protocol != "haproxy") {
    // Postfix refuses to start with any other value.
    p.Warn(std::string(kProtocol) + " = " + protocol +
           ": expected haproxy or empty, no upstream_proxy filter written");
    return;
  }
  *yaml += "- name: upstream_proxy\n  typed_config:\n    protocol: haproxy\n";
  std::string value = p.Get(kTimeout);
  auto timeout = PostfixTime(value, 's');
  auto seconds = timeout ? ParseDuration(*timeout) : std::nullopt;
  if (!seconds || seconds->count() < 1) {
    p.Warn(std::string(kTimeout) + " = " + value + ": expected a non-zero time value, left at " +
           kDefaultTimeout);
    return;
  }
  if (*seconds != std::chrono::seconds(5)) *yaml += "    timeout: " + *timeout + "\n";
}

struct Registrar {
  Registrar() {
    // Order -10: before the access list (0), as the listener phase comes first.
    PostfixImporterRegistry::Get().Register(PostfixImporter{
        "upstream_proxy", -10, {{kProtocol, ""}, {kTimeout, kDefaultTimeout}}, Translate});
  }
} registrar;

}  // namespace
}  // namespace mxs::upstream_proxy
