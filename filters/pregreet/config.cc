// pregreet config: registration and Postfix defaults (action ignore, TTL 1d).
// The filter is stateless, so every session shares one instance.
#include <google/protobuf/descriptor.h>

#include "core/filter_registry.h"
#include "filters/pregreet/pregreet.h"
#include "mxscreen/filters/pregreet/v1/pregreet.pb.h"

namespace mxs::pregreet {
namespace {

using ConfigProto = ::mxscreen::filters::pregreet::v1::Pregreet;

class ConfigFactory : public TypedFilterConfigFactory<ConfigProto> {
 public:
  ConfigFactory()
      : TypedFilterConfigFactory("pregreet", Action::kIgnore, std::chrono::seconds(86400)) {}

 protected:
  std::shared_ptr<const FilterFactory> BuildTyped(const ConfigProto& config,
                                                  BuildContext&) const override {
    FilterTraits t;
    t.cached = true;
    t.wants_teaser = true;
    t.teaser = config.banner();
    return FixedFilterFactory::Shared(std::move(t), std::make_shared<PregreetFilter>());
  }
};

FilterRegistrar<ConfigFactory> registrar;

}  // namespace
}  // namespace mxs::pregreet
