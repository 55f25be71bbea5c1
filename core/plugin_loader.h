// plugin_loader: finding, loading and checking a plugin's shared object
// (api/mxscreen/plugin/v1/mxscreen_plugin.h). docs/plugins-internals.md has
// the why of each choice.
//
// - A file is read whole and loaded from a private, content-addressed copy
//   (an anonymous memfd named by the SHA-256 of its bytes), never from its
//   own path: the dynamic loader hands back the image already loaded for a
//   path (or inode), so a new build pushed to the same path would otherwise
//   silently keep running the old code. Identical bytes share one image.
// - An image is never unloaded (no dlclose): code of a plugin may still run
//   after the last config and session let go of it (its own threads, thread
//   exit handlers, atexit functions), and unmapping it under them would
//   crash the gateway. A new build costs one more mapping; the old one stays.
// - Every failure (no such file, dlopen error, missing entry symbol, ABI
//   mismatch) is a PluginLoadError with a message for the operator.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "mxscreen/plugin/v1/mxscreen_plugin.h"

namespace mxs {

class PluginLoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One loaded, checked plugin image. Shared (shared_ptr) by the filter
// factories built from it and by their sessions.
struct PluginImage {
  std::string path;    // the file it was read from
  std::string sha256;  // of its bytes
  const mxs_plugin_v1* plugin = nullptr;
  // "1.0": the ABI version the plugin was built against.
  std::string abi_version;
};

// The plugin search path when Bootstrap.plugin_path names none.
constexpr const char* kDefaultPluginDir = "/usr/lib/mxscreen/plugins";

// Where `configured` is: an absolute path as is; a path with a "/" relative
// to `config_dir`; a bare file name in each of `search_path` (then
// kDefaultPluginDir), the first that exists. Throws PluginLoadError naming
// what was tried.
std::string ResolvePluginPath(const std::string& configured, const std::string& config_dir,
                              const std::vector<std::string>& search_path);

// Loads (or finds loaded) the image of `path`. `expected_sha256`, when not
// empty, must match the file's bytes. Throws PluginLoadError.
std::shared_ptr<const PluginImage> LoadPlugin(const std::string& path,
                                              const std::string& expected_sha256 = "");

// The gateway's function table handed to every plugin (plugin_filter.cc).
const mxs_host_v1* PluginHostTable();

}  // namespace mxs
