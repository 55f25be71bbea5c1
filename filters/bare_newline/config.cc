// bare_newline config: registration and the Postfix defaults of the envelope
// (postscreen_bare_newline_action = ignore, postscreen_bare_newline_ttl = 30d).
// The test keeps per-session state, so every session gets a fresh filter.
#include <google/protobuf/descriptor.h>

#include "core/filter_registry.h"
#include "filters/bare_newline/bare_newline.h"
#include "mxscreen/filters/bare_newline/v1/bare_newline.pb.h"

namespace mxs::bare_newline {
namespace {

using ConfigProto = ::mxscreen::filters::bare_newline::v1::BareNewline;

class ConfigFactory : public TypedFilterConfigFactory<ConfigProto> {
 public:
  ConfigFactory()
      : TypedFilterConfigFactory("bare_newline", Action::kIgnore, std::chrono::hours(24 * 30)) {}

 protected:
  std::shared_ptr<const FilterFactory> BuildTyped(const ConfigProto&,
                                                  BuildContext&) const override {
    return FixedFilterFactory::PerSession<BareNewlineFilter>(DeepTestTraits());
  }
};

FilterRegistrar<ConfigFactory> registrar;

}  // namespace
}  // namespace mxs::bare_newline
