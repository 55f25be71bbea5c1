// pregreet config: registration and Postfix defaults (action ignore, TTL 1d).
// The filter is stateless, so every session shares one instance.
#include <google/protobuf/descriptor.h>

#include "core/filter_registry.h"
#include "filters/pregreet/pregreet.h"
#include "mxscreen/filters/pregreet/v1/pregreet.pb.h"

namespace mxs::pregreet {
namespace {

using ConfigProto = ::mxscreen::filters::pregreet::v1::Pregreet;

class Factory : public FilterFactory {
 public:
  explicit Factory(std::string teaser) : teaser_(std::move(teaser)) {}
  FilterTraits traits() const override {
    FilterTraits t;
    t.cached = true;
    t.wants_teaser = true;
    t.teaser = teaser_;
    return t;
  }
  std::shared_ptr<Filter> Create() const override { return instance_; }

 private:
  std::string teaser_;
  std::shared_ptr<PregreetFilter> instance_ = std::make_shared<PregreetFilter>();
};

class ConfigFactory : public FilterConfigFactory {
 public:
  std::string_view name() const override { return "pregreet"; }
  const google::protobuf::Descriptor* config_type() const override {
    return ConfigProto::descriptor();
  }
  Action default_action() const override { return Action::kIgnore; }
  std::chrono::seconds default_ttl() const override { return std::chrono::seconds(86400); }
  std::shared_ptr<const FilterFactory> Build(const google::protobuf::Message& msg,
                                             BuildContext&) const override {
    return std::make_shared<Factory>(static_cast<const ConfigProto&>(msg).banner());
  }
};

FilterRegistrar<ConfigFactory> registrar;

}  // namespace
}  // namespace mxs::pregreet
