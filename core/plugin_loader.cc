// plugin_loader: reading a plugin file, its content-addressed private copy,
// dlopen, the entry symbol and the ABI version check.
#include "core/plugin_loader.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "core/sha256.h"

namespace mxs {
namespace {

// A plugin larger than this is surely a mistake (a core file, an archive).
constexpr size_t kMaxPluginBytes = 512u << 20;

struct Registry {
  std::mutex mu;
  // Every image loaded, by the hash of its bytes; never unloaded (see the
  // header). A failure is remembered too: loading the same bytes again would
  // map another copy only to fail the same way.
  std::map<std::string, std::shared_ptr<const PluginImage>> images;
  std::map<std::string, std::string> failures;
};

Registry& Images() {
  static auto* r = new Registry;  // never destroyed: images outlive static destructors
  return *r;
}

bool IsFile(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string ReadWhole(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw PluginLoadError("cannot read " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw PluginLoadError(path + " is not a regular file");
  }
  if (static_cast<size_t>(st.st_size) > kMaxPluginBytes) {
    ::close(fd);
    throw PluginLoadError(path + " is larger than 512 MiB");
  }
  std::string bytes;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      throw PluginLoadError("cannot read " + path + ": " + std::strerror(e));
    }
    if (n == 0) break;
    bytes.append(buf, static_cast<size_t>(n));
    if (bytes.size() > kMaxPluginBytes) {
      ::close(fd);
      throw PluginLoadError(path + " is larger than 512 MiB");
    }
  }
  ::close(fd);
  return bytes;
}

// The private copy: an anonymous file with the plugin's bytes, sealed against
// writes, dlopen'ed through /proc/self/fd. Its fd stays open for as long as
// the image is mapped (the process's life). An anonymous file needs no
// writable directory (the gateway may have dropped privileges) and cannot be
// swapped by anyone between the copy and the dlopen.
int PrivateCopy(const std::string& bytes, const std::string& sha256) {
  std::string name = "mxscreen-plugin-" + sha256.substr(0, 16);
  int fd = ::memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) throw PluginLoadError(std::string("memfd_create: ") + std::strerror(errno));
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = errno;
      ::close(fd);
      throw PluginLoadError(std::string("cannot copy the plugin: ") + std::strerror(e));
    }
    off += static_cast<size_t>(n);
  }
  ::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
  return fd;
}

// `mapped` tells the caller whether a failure left the image mapped (after
// dlopen succeeded): only those are remembered.
std::shared_ptr<const PluginImage> LoadBytes(const std::string& path, const std::string& bytes,
                                             const std::string& sha256, bool* mapped) {
  int fd = PrivateCopy(bytes, sha256);
  std::string copy = "/proc/self/fd/" + std::to_string(fd);
  dlerror();
  void* handle = ::dlopen(copy.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    ::close(fd);  // nothing was mapped
    const char* err = dlerror();
    std::string msg = err ? err : "unknown error";
    // dlerror names the private copy; the operator knows the file.
    auto at = msg.find(copy);
    if (at != std::string::npos) msg.replace(at, copy.size(), path);
    throw PluginLoadError("cannot load " + path + ": " + msg);
  }
  *mapped = true;
  dlerror();
  void* sym = ::dlsym(handle, MXS_PLUGIN_ENTRY_NAME);
  if (sym == nullptr) {
    throw PluginLoadError(path + " does not export " MXS_PLUGIN_ENTRY_NAME
                                 " (not an mxscreen plugin, or built without MXSCREEN_PLUGIN)");
  }
  auto describe = reinterpret_cast<mxs_plugin_describe_fn>(sym);
  const mxs_plugin_v1* p = describe(PluginHostTable());
  if (p == nullptr) throw PluginLoadError(path + ": " MXS_PLUGIN_ENTRY_NAME " returned NULL");
  std::string theirs = std::to_string(p->abi_major) + "." + std::to_string(p->abi_minor);
  if (p->abi_major != MXS_PLUGIN_ABI_VERSION_MAJOR || p->abi_minor > MXS_PLUGIN_ABI_VERSION_MINOR) {
    throw PluginLoadError(path + " was built for plugin ABI " + theirs +
                          ", this gateway has ABI " MXS_PLUGIN_ABI_VERSION_STRING
                          " (rebuild the plugin against this gateway's mxscreen_plugin.h)");
  }
  if (p->name == nullptr || p->name[0] == '\0') {
    throw PluginLoadError(path + ": the plugin description has no name");
  }
  if (p->create_config == nullptr) {
    throw PluginLoadError(path + ": the plugin description has no create_config");
  }
  auto image = std::make_shared<PluginImage>();
  image->path = path;
  image->sha256 = sha256;
  image->plugin = p;
  image->abi_version = theirs;
  return image;
}

}  // namespace

std::string ResolvePluginPath(const std::string& configured, const std::string& config_dir,
                              const std::vector<std::string>& search_path) {
  if (configured.empty()) throw PluginLoadError("the plugin path is empty");
  if (configured[0] == '/') return configured;
  if (configured.find('/') != std::string::npos) {
    return config_dir.empty() ? configured : config_dir + "/" + configured;
  }
  std::vector<std::string> dirs = search_path;
  dirs.push_back(kDefaultPluginDir);
  std::string tried;
  for (const auto& d : dirs) {
    if (d.empty()) continue;
    std::string dir = d[0] == '/' || config_dir.empty() ? d : config_dir + "/" + d;
    std::string p = dir + "/" + configured;
    if (IsFile(p)) return p;
    tried += (tried.empty() ? "" : ", ") + dir;
  }
  throw PluginLoadError("no plugin \"" + configured + "\" in the plugin path (" + tried + ")");
}

std::shared_ptr<const PluginImage> LoadPlugin(const std::string& path,
                                              const std::string& expected_sha256) {
  std::string bytes = ReadWhole(path);
  std::string sha = Sha256Hex(bytes);
  if (!expected_sha256.empty() && expected_sha256 != sha) {
    throw PluginLoadError(path + " has SHA-256 " + sha + ", the config expects " + expected_sha256);
  }
  Registry& r = Images();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.images.find(sha);
  if (it != r.images.end()) {
    if (it->second->path == path) return it->second;
    // The same bytes under another name: share the image, report this name.
    auto alias = std::make_shared<PluginImage>(*it->second);
    alias->path = path;
    return alias;
  }
  auto f = r.failures.find(sha);
  if (f != r.failures.end()) throw PluginLoadError(f->second);
  bool mapped = false;
  try {
    auto image = LoadBytes(path, bytes, sha, &mapped);
    r.images.emplace(sha, image);
    return image;
  } catch (const PluginLoadError& e) {
    if (mapped) r.failures.emplace(sha, e.what());
    throw;
  }
}

}  // namespace mxs
