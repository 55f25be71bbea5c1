// non_smtp config: turns the NonSmtp message into the shared table of
// forbidden commands and registers the filter, with the Postfix defaults of
// the envelope (postscreen_non_smtp_command_action = drop,
// postscreen_non_smtp_command_ttl = 30d). The test keeps per-session state,
// so every session gets a fresh filter around the shared table.
#include <google/protobuf/descriptor.h>

#include "core/config_error.h"
#include "core/filter_registry.h"
#include "filters/non_smtp/non_smtp.h"
#include "mxscreen/filters/non_smtp/v1/non_smtp.pb.h"

namespace mxs::non_smtp {
namespace {

using ConfigProto = ::mxscreen::filters::non_smtp::v1::NonSmtp;

class ConfigFactory : public TypedFilterConfigFactory<ConfigProto> {
 public:
  ConfigFactory()
      : TypedFilterConfigFactory("non_smtp", Action::kDrop, std::chrono::hours(24 * 30)) {}

 protected:
  std::shared_ptr<const FilterFactory> BuildTyped(const ConfigProto& cfg,
                                                  BuildContext& ctx) const override {
    std::vector<std::string> entries(cfg.forbidden_commands().begin(),
                                     cfg.forbidden_commands().end());
    if (cfg.no_forbidden_commands() && !entries.empty()) {
      throw ConfigError(ctx.path() + ".no_forbidden_commands",
                        "true means an empty list: leave forbidden_commands out");
    }
    if (entries.empty() && !cfg.no_forbidden_commands()) entries = ForbiddenCommands::Defaults();
    try {
      return FixedFilterFactory::PerSession<NonSmtpFilter>(
          DeepTestTraits(), std::shared_ptr<const ForbiddenCommands>(
                                std::make_shared<const ForbiddenCommands>(entries)));
    } catch (const BadForbiddenCommand& e) {
      throw ConfigError(ctx.path() + ".forbidden_commands[" + std::to_string(e.index) + "]",
                        e.what());
    }
  }
};

FilterRegistrar<ConfigFactory> registrar;

}  // namespace
}  // namespace mxs::non_smtp
