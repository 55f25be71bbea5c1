// fake_host: the fake gateway side of the plugin ABI (see fake_host.h).
#include "tests/fake_host.h"

#include <dlfcn.h>
#include <strings.h>

#include <cstdio>
#include <cstring>

namespace fake_host {

Plugin::Plugin(const std::string& path) {
  handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle_ == nullptr) {
    error_ = std::string("dlopen: ") + dlerror();
    return;
  }
  void* sym = dlsym(handle_, MXS_PLUGIN_ENTRY_NAME);
  if (sym == nullptr) {
    error_ = "no symbol " MXS_PLUGIN_ENTRY_NAME;
    return;
  }
  auto describe = reinterpret_cast<mxs_plugin_describe_fn>(sym);
  const mxs_plugin_v1* d = describe(Host());
  if (d == nullptr) {
    error_ = "describe returned NULL";
  } else if (d->abi_major != MXS_PLUGIN_ABI_VERSION_MAJOR ||
             d->abi_minor > MXS_PLUGIN_ABI_VERSION_MINOR) {
    error_ = "ABI " + std::to_string(d->abi_major) + "." + std::to_string(d->abi_minor) +
             " (host has " MXS_PLUGIN_ABI_VERSION_STRING ")";
  } else if (d->name == nullptr || d->create_config == nullptr) {
    error_ = "description without name or create_config";
  } else {
    desc_ = d;
  }
}

Plugin::~Plugin() {
  if (handle_ != nullptr) dlclose(handle_);
}

void* Plugin::CreateConfig(const std::string& json, std::string* error) const {
  char buf[512];
  std::memset(buf, 'X', sizeof buf);  // catches a plugin that forgets the NUL
  buf[sizeof buf - 1] = '\0';
  void* c = desc_->create_config(json.data(), json.size(), buf, sizeof buf);
  if (c == nullptr && error != nullptr) *error = buf;
  return c;
}

void Plugin::DestroyConfig(void* config) const {
  if (desc_->destroy_config != nullptr) desc_->destroy_config(config);
}

// The callbacks, as static functions of a friend so they reach the fields.
struct Callbacks {
  static Session& Of(mxs_session* s) { return *reinterpret_cast<Session::Link*>(s)->self; }

  static void Log(mxs_session* s, int level, const char* line, size_t len) {
    Session& x = Of(s);
    std::lock_guard<std::mutex> lock(x.mu_);
    x.log.push_back((level == MXS_LOG_WARNING ? "warning: " : "") + std::string(line, len));
  }
  static int Client(mxs_session* s, mxs_endpoint* out) {
    if (out == nullptr) return 0;
    *out = Of(s).client_;
    return 1;
  }
  static int Server(mxs_session*, mxs_endpoint* out) {
    if (out == nullptr) return 0;
    std::memset(out, 0, sizeof *out);
    std::snprintf(out->address, sizeof out->address, "%s", "127.0.0.1");
    out->port = 25;
    out->family = MXS_AF_INET;
    return 1;
  }
  static void ClientTag(mxs_session* s, const char** data, size_t* len) {
    *data = Of(s).tag_.data();
    *len = Of(s).tag_.size();
  }
  static void FilterName(mxs_session* s, const char** data, size_t* len) {
    const char* name = Of(s).plugin_.plugin()->name;
    *data = name;
    *len = std::strlen(name);
  }
  static int SmtpValue(mxs_session* s, int what, uint32_t index, const char** data, size_t* len) {
    Session& x = Of(s);
    if (what != MXS_SMTP_HELO || index != 0 || x.helo.empty()) return 0;
    *data = x.helo.data();
    *len = x.helo.size();
    return 1;
  }
  static int Fail(mxs_session* s, const char* reply, size_t reply_len, const char* log_line,
                  size_t log_len) {
    Session& x = Of(s);
    x.fails_in_hook_++;
    x.fail_reply.assign(reply, reply_len);
    x.fail_log.assign(log_line ? log_line : "", log_line ? log_len : 0);
    for (char c : x.fail_reply) {
      if (c < 0x20 || c > 0x7e) x.protocol_errors.push_back("reply not printable ASCII");
    }
    if (reply_len > 500) x.protocol_errors.push_back("reply over 500 bytes");
    return 1;
  }
  static int Resume(mxs_session* s, int, const char*, size_t, const char*, size_t) {
    Of(s).protocol_errors.push_back("resume called by a plugin that never returns MXS_PENDING");
    return 0;
  }
  static uint64_t ArmTimer(mxs_session* s, uint32_t, mxs_timer_fn, void*) {
    Of(s).protocol_errors.push_back("arm_timer called (not expected of these examples)");
    return 0;
  }
  static int CancelTimer(mxs_session*, uint64_t) { return 0; }
};

const mxs_host_v1* Host() {
  static const mxs_host_v1 host = [] {
    mxs_host_v1 h;
    std::memset(&h, 0, sizeof h);
    h.struct_size = sizeof h;
    h.abi_minor = MXS_PLUGIN_ABI_VERSION_MINOR;
    h.log = &Callbacks::Log;
    h.client = &Callbacks::Client;
    h.server = &Callbacks::Server;
    h.client_tag = &Callbacks::ClientTag;
    h.filter_name = &Callbacks::FilterName;
    h.smtp_value = &Callbacks::SmtpValue;
    h.fail = &Callbacks::Fail;
    h.resume = &Callbacks::Resume;
    h.arm_timer = &Callbacks::ArmTimer;
    h.cancel_timer = &Callbacks::CancelTimer;
    return h;
  }();
  return &host;
}

Session::Session(const Plugin& plugin, void* config, std::string client_address, uint16_t port)
    : plugin_(plugin) {
  link_.raw.host = Host();
  link_.self = this;
  std::snprintf(client_.address, sizeof client_.address, "%s", client_address.c_str());
  client_.port = port;
  client_.family = client_address.find(':') != std::string::npos ? MXS_AF_INET6 : MXS_AF_INET;
  tag_ = "[" + client_address + "]:" + std::to_string(port);
  if (plugin_.plugin()->create_session != nullptr) {
    state_ = plugin_.plugin()->create_session(config, raw());
  }
}

Session::~Session() {
  End();
  if (plugin_.plugin()->destroy_session != nullptr) {
    plugin_.plugin()->destroy_session(state_, raw());
  }
}

int Session::Checked(int verdict, const char* hook) {
  if (verdict == MXS_FAIL && fails_in_hook_ != 1) {
    protocol_errors.push_back(std::string(hook) + ": MXS_FAIL without exactly one fail()");
  }
  if (verdict != MXS_FAIL && fails_in_hook_ != 0) {
    protocol_errors.push_back(std::string(hook) + ": fail() without MXS_FAIL");
  }
  if (verdict < MXS_CONTINUE || verdict > MXS_PENDING) {
    protocol_errors.push_back(std::string(hook) + ": unknown verdict");
  }
  fails_in_hook_ = 0;
  return verdict;
}

int Session::Connect() {
  auto hook = plugin_.plugin()->on_connect;
  return Checked(hook ? hook(state_, raw()) : MXS_CONTINUE, "on_connect");
}

int Session::Command(const std::string& line) {
  size_t sp = line.find(' ');
  std::string verb = line.substr(0, sp);
  std::string arg;
  if (sp != std::string::npos) {
    size_t a = line.find_first_not_of(' ', sp);
    if (a != std::string::npos) arg = line.substr(a);
  }
  if (strcasecmp(verb.c_str(), "HELO") == 0 || strcasecmp(verb.c_str(), "EHLO") == 0) {
    if (!arg.empty()) helo = arg;
  }
  mxs_command c;
  c.verb = verb.data();
  c.verb_len = verb.size();
  c.argument = arg.data();
  c.argument_len = arg.size();
  c.line = line.data();
  c.line_len = line.size();
  c.more_input_queued = 0;
  auto hook = plugin_.plugin()->on_command;
  return Checked(hook ? hook(state_, raw(), &c) : MXS_CONTINUE, "on_command");
}

void Session::End() {
  if (ended_) return;
  ended_ = true;
  if (plugin_.plugin()->on_session_end != nullptr) {
    plugin_.plugin()->on_session_end(state_, raw());
  }
}

}  // namespace fake_host
