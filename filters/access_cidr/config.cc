// access_cidr config: turns the AccessCidr message into the built list and
// registers the filter. Postfix defaults: access list permit_mynetworks,
// denylist action ignore; the filter is judged on every connection (no TTL).
#include <google/protobuf/descriptor.h>

#include <stdexcept>

#include "core/config_error.h"
#include "core/filter_registry.h"
#include "filters/access_cidr/access_cidr.h"
#include "mxscreen/filters/access_cidr/v1/access_cidr.pb.h"

namespace mxs::access_cidr {
namespace {

using ConfigProto = ::mxscreen::filters::access_cidr::v1::AccessCidr;

class ConfigFactory : public TypedFilterConfigFactory<ConfigProto> {
 public:
  ConfigFactory()
      : TypedFilterConfigFactory("access_cidr", Action::kIgnore, std::chrono::seconds(0)) {}

 protected:
  std::shared_ptr<const FilterFactory> BuildTyped(const ConfigProto& cfg,
                                                  BuildContext& ctx) const override {
    std::vector<Cidr> mynetworks;
    if (cfg.mynetworks_size() == 0) {
      std::string unused;
      mynetworks.push_back(*Cidr::Parse("127.0.0.0/8", &unused));
      mynetworks.push_back(*Cidr::Parse("::1/128", &unused));
    }
    for (int i = 0; i < cfg.mynetworks_size(); ++i) {
      std::string error;
      auto c = Cidr::Parse(cfg.mynetworks(i), &error);
      if (!c) throw ConfigError(ctx.path() + ".mynetworks[" + std::to_string(i) + "]", error);
      mynetworks.push_back(*c);
    }
    std::vector<AccessList::Entry> entries;
    if (cfg.access_list_size() == 0) entries.emplace_back(AccessList::MyNetworks{});
    for (int i = 0; i < cfg.access_list_size(); ++i) {
      const auto& e = cfg.access_list(i);
      std::string path = ctx.path() + ".access_list[" + std::to_string(i) + "]";
      if (e.has_cidr()) {
        const auto& t = e.cidr();
        if (t.path().empty() == (t.lines_size() == 0)) {
          throw ConfigError(path + ".cidr", "give either path or lines");
        }
        try {
          if (!t.path().empty() && !ctx.ReadsLocalFiles()) {
            entries.emplace_back(CidrTable::Parse({}, t.path()));
          } else if (!t.path().empty()) {
            entries.emplace_back(CidrTable::Load(ctx.ResolvePath(t.path())));
          } else {
            entries.emplace_back(
                CidrTable::Parse({t.lines().begin(), t.lines().end()}, "inline table"));
          }
        } catch (const std::invalid_argument& err) {
          throw ConfigError(path + ".cidr", err.what());
        }
      } else if (e.permit_mynetworks()) {
        entries.emplace_back(AccessList::MyNetworks{});
      } else {
        throw ConfigError(path, "expected permit_mynetworks: true or cidr: {...}");
      }
    }
    return FixedFilterFactory::Shared(
        FilterTraits{}, std::make_shared<AccessCidrFilter>(std::make_shared<AccessList>(
                            std::move(entries), std::move(mynetworks))));
  }
};

FilterRegistrar<ConfigFactory> registrar;

}  // namespace
}  // namespace mxs::access_cidr
