// fake_host: a stand-in for the gateway's side of the plugin ABI, for the
// examples' tests: dlopens a plugin, checks its description as the loader
// would, and gives each session the host callbacks (mxs_host_v1) backed by
// plain fields the test sets and reads: the client, the HELO seen, the log
// lines written and the failure reported. Standard library and dlopen only;
// no mxscreen code, so the examples' tests run wherever they build.
#pragma once

#include <mxscreen/plugin/v1/mxscreen_plugin.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace fake_host {

// A loaded plugin (dlclose'd on destruction).
class Plugin {
 public:
  // Loads `path`; on failure `error` says why and plugin() is null.
  explicit Plugin(const std::string& path);
  ~Plugin();
  Plugin(const Plugin&) = delete;
  Plugin& operator=(const Plugin&) = delete;
  const mxs_plugin_v1* plugin() const { return desc_; }
  const std::string& error() const { return error_; }

  // create_config with `json`; null and `error` set when refused.
  void* CreateConfig(const std::string& json, std::string* error) const;
  void DestroyConfig(void* config) const;

 private:
  void* handle_ = nullptr;
  const mxs_plugin_v1* desc_ = nullptr;
  std::string error_;
};

// One fake session. The mxs_session handed to the plugin is the first
// member of a Link that also points back here, so the callbacks find the
// Session from it.
class Session {
 public:
  Session(const Plugin& plugin, void* config, std::string client_address, uint16_t port);
  ~Session();  // on_session_end (once) and destroy_session

  // The hooks; each returns the plugin's verdict (MXS_CONTINUE for a NULL
  // hook), after checking that fail was called exactly when MXS_FAIL is
  // returned (a mismatch is recorded in `protocol_errors`).
  int Connect();
  int Command(const std::string& line);  // "EHLO x": verb up to the first space
  void End();

  // What the plugin did (the last failure's texts; every log line).
  std::string fail_reply, fail_log;
  std::vector<std::string> log;
  std::vector<std::string> protocol_errors;
  std::string helo;  // what smtp_value(MXS_SMTP_HELO) answers

  mxs_session* raw() { return &link_.raw; }

 private:
  struct Link {
    mxs_session raw;  // first: the callbacks cast the mxs_session* back to Link*
    Session* self;
  };

  int Checked(int verdict, const char* hook);

  const Plugin& plugin_;
  void* state_ = nullptr;
  bool ended_ = false;
  int fails_in_hook_ = 0;
  mxs_endpoint client_{};
  std::string tag_;
  std::mutex mu_;  // log may be called from any thread
  Link link_{};

  friend struct Callbacks;
};

// The host table every fake session points to.
const mxs_host_v1* Host();

}  // namespace fake_host
