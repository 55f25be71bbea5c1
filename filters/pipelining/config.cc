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

class Factory : public FilterFactory {
 public:
  FilterTraits traits() const override {
    FilterTraits t;
    t.cached = true;
    t.needs_engine = true;
    return t;
  }
  std::shared_ptr<Filter> Create() const override { return std::make_shared<PipeliningFilter>(); }
};

class ConfigFactory : public FilterConfigFactory {
 public:
  std::string_view name() const override { return "pipelining"; }
  const google::protobuf::Descriptor* config_type() const override {
    return ConfigProto::descriptor();
  }
  Action default_action() const override { return Action::kEnforce; }
  std::chrono::seconds default_ttl() const override { return std::chrono::hours(24 * 30); }
  std::shared_ptr<const FilterFactory> Build(const google::protobuf::Message&,
                                             BuildContext&) const override {
    return std::make_shared<Factory>();
  }
};

FilterRegistrar<ConfigFactory> registrar;

}  // namespace
}  // namespace mxs::pipelining
