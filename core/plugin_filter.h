// plugin_filter: a filter entry whose test is a plugin (FilterEntry.plugin):
// builds it from the config (loads the shared object through plugin_loader,
// hands the plugin its config) and adapts the plugin's C hooks to the Filter
// interface. Every hook call is timed against the entry's hook_budget; the
// host functions the plugin calls back check their arguments, so a
// misbehaving plugin is logged and counts as no opinion.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/duration.h"
#include "core/filter.h"

namespace mxscreen::config::v1 {
class PluginFilter;
}  // namespace mxscreen::config::v1

namespace mxs {

// A plugin entry's envelope defaults (an entry's action / ttl override them):
// a failure is enforced (550 on RCPT; `action: ignore` is the dry run), a
// pass is remembered for a day.
constexpr Action kPluginDefaultAction = Action::kEnforce;
constexpr Seconds kPluginDefaultTtl{86400};
constexpr std::chrono::microseconds kPluginDefaultHookBudget{5000};

// "500us", "5ms", "1s", "0.5s" -> microseconds (at least 1us); nullopt when
// malformed.
std::optional<std::chrono::microseconds> ParseHookBudget(const std::string& text);

// Builds the filter of an entry named `name` with `plugin` set. `path` is
// the field path of the plugin block ("listeners[0].filters[2].plugin"),
// `plugin_path` Bootstrap.plugin_path. With ctx.ReadsLocalFiles() false (the
// control plane) everything but the file is checked and the result never
// runs. Throws ConfigError.
std::shared_ptr<const FilterFactory> BuildPluginFilter(
    const mxscreen::config::v1::PluginFilter& plugin, const std::string& name,
    const std::vector<std::string>& plugin_path, const std::string& path, BuildContext& ctx);

}  // namespace mxs
