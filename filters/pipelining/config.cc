// pipelining config: registration and the Postfix defaults of the envelope
// (postscreen_pipelining_action = enforce, postscreen_pipelining_ttl = 30d).
// The test keeps per-session state, so every session gets a fresh filter.
#include <google/protobuf/descriptor.h>

#include "core/filter_registry.h"
#include "filters/pipelining/pipelining.h"
#include "mxscreen/filters/pipelining/v1/pipelining.pb.h"

namespace mxs::pipelining {
namespace {

using ConfigProto = ::mxscreen::filters::pipelining::v1::Pipelining;

class ConfigFactory : public TypedFilterConfigFactory<ConfigProto> {
 public:
  ConfigFactory()
      : TypedFilterConfigFactory("pipelining", Action::kEnforce, std::chrono::hours(24 * 30)) {}

 protected:
  std::shared_ptr<const FilterFactory> BuildTyped(const ConfigProto&,
                                                  BuildContext&) const override {
    return FixedFilterFactory::PerSession<PipeliningFilter>(DeepTestTraits());
  }
};

FilterRegistrar<ConfigFactory> registrar;

}  // namespace
}  // namespace mxs::pipelining
