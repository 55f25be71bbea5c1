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

class Factory : public FilterFactory {
 public:
  FilterTraits traits() const override {
    FilterTraits t;
    t.cached = true;
    t.needs_engine = true;
    return t;
  }
  std::shared_ptr<Filter> Create() const override { return std::make_shared<BareNewlineFilter>(); }
};

class ConfigFactory : public FilterConfigFactory {
 public:
  std::string_view name() const override { return "bare_newline"; }
  const google::protobuf::Descriptor* config_type() const override {
    return ConfigProto::descriptor();
  }
  Action default_action() const override { return Action::kIgnore; }
  std::chrono::seconds default_ttl() const override { return std::chrono::hours(24 * 30); }
  std::shared_ptr<const FilterFactory> Build(const google::protobuf::Message&,
                                             BuildContext&) const override {
    return std::make_shared<Factory>();
  }
};

FilterRegistrar<ConfigFactory> registrar;

}  // namespace
}  // namespace mxs::bare_newline
