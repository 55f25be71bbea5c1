// upstream_proxy config: registration. The filter has no verdict to act on
// (a bad header is refused by the session before any test), so the action
// and TTL of its entry are unused; it is never cached. Stateless: every
// session shares one instance.
#include <google/protobuf/descriptor.h>

#include "core/config_error.h"
#include "core/duration.h"
#include "core/filter_registry.h"
#include "filters/upstream_proxy/upstream_proxy.h"
#include "mxscreen/filters/upstream_proxy/v1/upstream_proxy.pb.h"

namespace mxs::upstream_proxy {
namespace {

using ConfigProto = ::mxscreen::filters::upstream_proxy::v1::UpstreamProxy;

class ConfigFactory : public TypedFilterConfigFactory<ConfigProto> {
 public:
  ConfigFactory()
      : TypedFilterConfigFactory("upstream_proxy", Action::kIgnore, std::chrono::seconds(0)) {}

 protected:
  std::shared_ptr<const FilterFactory> BuildTyped(const ConfigProto& c,
                                                  BuildContext& ctx) const override {
    ProxyVersions versions{c.versions().empty(), c.versions().empty()};
    for (int v : c.versions()) {
      if (v == ConfigProto::V1) versions.v1 = true;
      if (v == ConfigProto::V2) versions.v2 = true;
    }
    if (!versions.v1 && !versions.v2) {
      throw ConfigError(ctx.path() + ".versions", "name v1, v2 or both (empty accepts both)");
    }
    std::chrono::seconds timeout(5);  // postscreen_upstream_proxy_timeout
    if (!c.timeout().empty()) {
      auto d = ParseDuration(c.timeout());
      if (!d || d->count() < 1) {
        throw ConfigError(ctx.path() + ".timeout",
                          "bad time value \"" + c.timeout() +
                              "\" (at least 1s: a number with an optional unit s, m, h, d or w)");
      }
      timeout = *d;
    }
    FilterTraits t;
    t.listener_phase = true;
    t.listener_timeout = timeout;
    return FixedFilterFactory::Shared(std::move(t),
                                      std::make_shared<UpstreamProxyFilter>(versions));
  }
};

FilterRegistrar<ConfigFactory> registrar;

}  // namespace
}  // namespace mxs::upstream_proxy
