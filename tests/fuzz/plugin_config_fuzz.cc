// Fuzz target: a filter entry's plugin block (YAML/JSON -> PluginFilter, the
// free-form config map -> JSON text, the hook budget), checked as the control
// plane checks it: without loading any file. Any input must end in a
// ConfigError or a factory, never a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/config_error.h"
#include "core/filter.h"
#include "core/plugin_filter.h"
#include "core/proto_yaml.h"
#include "mxscreen/config/v1/bootstrap.pb.h"

namespace {

class NoFilesContext : public mxs::BuildContext {
 public:
  const std::string& path() const override { return path_; }
  std::string ResolvePath(const std::string& p) const override { return "/nonexistent/" + p; }
  bool ReadsLocalFiles() const override { return false; }

 private:
  std::string path_ = "plugin";
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    mxscreen::config::v1::PluginFilter p;
    mxs::ParseConfigText(text, &p, nullptr);
    NoFilesContext ctx;
    mxs::BuildPluginFilter(p, "fuzz", {"/nonexistent"}, "plugin", ctx);
    mxs::ParseHookBudget(p.hook_budget());
  } catch (const mxs::ConfigError&) {
  }
  return 0;
}
