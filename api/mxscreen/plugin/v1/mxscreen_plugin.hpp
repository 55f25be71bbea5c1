// mxscreen_plugin.hpp: a header-only C++17 layer over the plugin C ABI
// (mxscreen_plugin.h), so a plugin author writes a config class and a session
// class that overrides only the hooks it needs:
//
//   struct MyConfig {
//     explicit MyConfig(std::string_view json);   // throw to refuse the config
//   };
//   class MySession : public mxscreen::plugin::SessionHandler {
//    public:
//     MySession(const MyConfig& config, mxscreen::plugin::Session session);
//     mxscreen::plugin::Verdict OnCommand(mxscreen::plugin::Session& s,
//                                         const mxscreen::plugin::Command& c) override;
//   };
//   MXSCREEN_PLUGIN("my_test", "1.0", MXS_TRAIT_CACHED | MXS_TRAIT_NEEDS_ENGINE,
//                   MyConfig, MySession)
//
// Exceptions never reach the gateway: the trampolines here catch them. One
// thrown from the config's constructor refuses the config with its what();
// one thrown from a hook is logged as a warning and counts as no opinion.
// Everything here is inline and uses only the C ABI, so a plugin built with
// this header depends on nothing of the gateway's C++ (its compiler, standard
// library or types).
#ifndef MXSCREEN_PLUGIN_V1_MXSCREEN_PLUGIN_HPP_
#define MXSCREEN_PLUGIN_V1_MXSCREEN_PLUGIN_HPP_

#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>  // plugin configs throw std::runtime_error to refuse
#include <string>
#include <string_view>
#include <vector>

#include "mxscreen_plugin.h"

namespace mxscreen {
namespace plugin {

// What a hook found; the values are the C ABI's MXS_* codes.
enum class Verdict : int {
  kContinue = MXS_CONTINUE,
  kPass = MXS_PASS,
  kFail = MXS_FAIL,
  kPending = MXS_PENDING,
};

struct Endpoint {
  std::string address;  // without brackets
  uint16_t port = 0;
  int family = 0;  // MXS_AF_INET or MXS_AF_INET6
};

// One SMTP command (views valid during the hook).
struct Command {
  std::string_view verb;
  std::string_view argument;
  std::string_view line;
  bool more_input_queued = false;
};

// The session as the plugin sees it: a thin copyable handle around
// mxs_session*, valid until the session's handler is destroyed.
class Session {
 public:
  explicit Session(mxs_session* s) : s_(s) {}
  mxs_session* raw() const { return s_; }

  void Log(std::string_view line) const {
    s_->host->log(s_, MXS_LOG_INFO, line.data(), line.size());
  }
  void Warn(std::string_view line) const {
    s_->host->log(s_, MXS_LOG_WARNING, line.data(), line.size());
  }
  Endpoint Client() const { return Get(s_->host->client); }
  Endpoint Server() const { return Get(s_->host->server); }
  // "[addr]:port", as the gateway's log lines write the client.
  std::string ClientTag() const { return Text(s_->host->client_tag); }
  // The filter entry's name in the config.
  std::string FilterName() const { return Text(s_->host->filter_name); }
  std::optional<std::string> Helo() const { return Smtp(MXS_SMTP_HELO, 0); }
  std::optional<std::string> MailFrom() const { return Smtp(MXS_SMTP_MAIL_FROM, 0); }
  std::vector<std::string> RcptTo() const {
    std::vector<std::string> out;
    for (uint32_t i = 0;; ++i) {
      auto r = Smtp(MXS_SMTP_RCPT_TO, i);
      if (!r) return out;
      out.push_back(std::move(*r));
    }
  }
  // Returns from a hook as `return s.Fail("5.7.1 Go away", "log line");`.
  Verdict Fail(std::string_view reply, std::string_view log_line = {}) const {
    s_->host->fail(s_, reply.data(), reply.size(), log_line.data(), log_line.size());
    return Verdict::kFail;
  }
  // Finishes a hook that returned kPending (any thread, see host->resume).
  bool Resume(Verdict v, std::string_view reply = {}, std::string_view log_line = {}) const {
    return s_->host->resume(s_, static_cast<int>(v), reply.data(), reply.size(), log_line.data(),
                            log_line.size()) == 1;
  }
  // A one-shot timer on the session's thread; `fn(true)` when it fires,
  // `fn(false)` when it is cancelled (also at the session's end). Returns its
  // id, 0 when refused.
  uint64_t ArmTimer(std::chrono::milliseconds delay, std::function<void(bool fired)> fn) const {
    if (delay.count() < 0 || delay.count() > 0xffffffffLL) return 0;
    auto* heap = new (std::nothrow) std::function<void(bool)>(std::move(fn));
    if (heap == nullptr) return 0;
    uint64_t id = s_->host->arm_timer(s_, static_cast<uint32_t>(delay.count()),
                                      &Session::TimerTrampoline, heap);
    if (id == 0) delete heap;
    return id;
  }
  bool CancelTimer(uint64_t id) const { return s_->host->cancel_timer(s_, id) == 1; }

 private:
  static void TimerTrampoline(void*, mxs_session* s, void* arg, int why) {
    std::unique_ptr<std::function<void(bool)>> fn(static_cast<std::function<void(bool)>*>(arg));
    try {
      if (*fn) (*fn)(why == MXS_TIMER_FIRED);
    } catch (const std::exception& e) {
      Session(s).Warn(std::string("exception in a timer: ") + e.what());
    } catch (...) {
      Session(s).Warn("exception in a timer");
    }
  }
  Endpoint Get(int (*fn)(mxs_session*, mxs_endpoint*)) const {
    mxs_endpoint e;
    std::memset(&e, 0, sizeof e);
    Endpoint out;
    if (fn(s_, &e) == 1) {
      e.address[sizeof e.address - 1] = '\0';
      out.address = e.address;
      out.port = e.port;
      out.family = e.family;
    }
    return out;
  }
  std::string Text(void (*fn)(mxs_session*, const char**, size_t*)) const {
    const char* d = nullptr;
    size_t n = 0;
    fn(s_, &d, &n);
    return d ? std::string(d, n) : std::string();
  }
  std::optional<std::string> Smtp(int what, uint32_t index) const {
    const char* d = nullptr;
    size_t n = 0;
    if (s_->host->smtp_value(s_, what, index, &d, &n) != 1 || d == nullptr) return std::nullopt;
    return std::string(d, n);
  }

  mxs_session* s_;
};

// Per-session state of a plugin: override the hooks you use. The defaults
// have no opinion.
class SessionHandler {
 public:
  virtual ~SessionHandler() = default;
  virtual Verdict OnConnect(Session&) { return Verdict::kContinue; }
  virtual Verdict OnBeforeGreeting(Session&) { return Verdict::kContinue; }
  virtual Verdict OnGreetWaitEnd(Session&) { return Verdict::kContinue; }
  virtual Verdict OnCommand(Session&, const Command&) { return Verdict::kContinue; }
  virtual Verdict OnLine(Session&, std::string_view /*line*/, std::string_view /*ending*/) {
    return Verdict::kContinue;
  }
  virtual void OnSessionEnd(Session&) {}
};

namespace detail {

inline void CopyError(const char* text, char* error, size_t cap) {
  if (error == nullptr || cap == 0) return;
  size_t n = std::strlen(text);
  if (n >= cap) n = cap - 1;
  std::memcpy(error, text, n);
  error[n] = '\0';
}

// The C trampolines for one (Config, Handler) pair. Every entry catches
// everything: a C++ exception must never unwind into the gateway.
template <typename Config, typename Handler>
struct Adapter {
  static void* CreateConfig(const char* json, size_t len, char* error, size_t cap) {
    try {
      return new Config(std::string_view(json ? json : "", json ? len : 0));
    } catch (const std::exception& e) {
      CopyError(e.what(), error, cap);
    } catch (...) {
      CopyError("the plugin refused its config", error, cap);
    }
    return nullptr;
  }
  static void DestroyConfig(void* config) { delete static_cast<Config*>(config); }
  static void* CreateSession(void* config, mxs_session* s) {
    try {
      return static_cast<SessionHandler*>(
          new Handler(*static_cast<const Config*>(config), Session(s)));
    } catch (const std::exception& e) {
      Session(s).Warn(std::string("exception creating a session: ") + e.what());
    } catch (...) {
      Session(s).Warn("exception creating a session");
    }
    return nullptr;
  }
  static void DestroySession(void* state, mxs_session*) {
    delete static_cast<SessionHandler*>(state);
  }

  template <typename F>
  static int Guard(void* state, mxs_session* s, const char* hook, F&& f) {
    if (state == nullptr) return MXS_CONTINUE;
    try {
      Session session(s);
      return static_cast<int>(f(*static_cast<SessionHandler*>(state), session));
    } catch (const std::exception& e) {
      Session(s).Warn(std::string("exception in hook ") + hook + ": " + e.what());
    } catch (...) {
      Session(s).Warn(std::string("exception in hook ") + hook);
    }
    return MXS_CONTINUE;
  }
  static int OnConnect(void* st, mxs_session* s) {
    return Guard(st, s, "connect", [](SessionHandler& h, Session& x) { return h.OnConnect(x); });
  }
  static int OnBeforeGreeting(void* st, mxs_session* s) {
    return Guard(st, s, "before_greeting",
                 [](SessionHandler& h, Session& x) { return h.OnBeforeGreeting(x); });
  }
  static int OnGreetWaitEnd(void* st, mxs_session* s) {
    return Guard(st, s, "greet_wait_end",
                 [](SessionHandler& h, Session& x) { return h.OnGreetWaitEnd(x); });
  }
  static int OnCommand(void* st, mxs_session* s, const mxs_command* c) {
    if (c == nullptr) return MXS_CONTINUE;
    Command cmd{std::string_view(c->verb, c->verb_len),
                std::string_view(c->argument, c->argument_len),
                std::string_view(c->line, c->line_len), c->more_input_queued != 0};
    return Guard(st, s, "command",
                 [&cmd](SessionHandler& h, Session& x) { return h.OnCommand(x, cmd); });
  }
  static int OnLine(void* st, mxs_session* s, const char* line, size_t n, const char* ending,
                    size_t en) {
    std::string_view l(line, n), e(ending, en);
    return Guard(st, s, "line", [&](SessionHandler& h, Session& x) { return h.OnLine(x, l, e); });
  }
  static void OnSessionEnd(void* st, mxs_session* s) {
    Guard(st, s, "session_end", [](SessionHandler& h, Session& x) {
      h.OnSessionEnd(x);
      return Verdict::kContinue;
    });
  }

  static const mxs_plugin_v1* Describe(const char* name, const char* version, uint32_t traits) {
    static const mxs_plugin_v1 d = [&] {
      mxs_plugin_v1 p;
      std::memset(&p, 0, sizeof p);
      p.abi_major = MXS_PLUGIN_ABI_VERSION_MAJOR;
      p.abi_minor = MXS_PLUGIN_ABI_VERSION_MINOR;
      p.name = name;
      p.version = version;
      p.traits = traits;
      p.create_config = &CreateConfig;
      p.destroy_config = &DestroyConfig;
      p.create_session = &CreateSession;
      p.destroy_session = &DestroySession;
      p.on_connect = &OnConnect;
      p.on_before_greeting = &OnBeforeGreeting;
      p.on_greet_wait_end = &OnGreetWaitEnd;
      p.on_command = &OnCommand;
      p.on_line = &OnLine;
      p.on_session_end = &OnSessionEnd;
      return p;
    }();
    return &d;
  }
};

}  // namespace detail
}  // namespace plugin
}  // namespace mxscreen

// Exports the entry symbol for a plugin named NAME (a string literal, e.g.
// "helo_policy"), build VERSION (a string literal), TRAITS (MXS_TRAIT_* bits),
// whose config type is CONFIG (constructed from the JSON text; throws to
// refuse) and whose per-session type is HANDLER (derived from
// SessionHandler, constructed from (const CONFIG&, Session)). Use it once,
// at namespace scope, in one source file of the plugin.
#define MXSCREEN_PLUGIN(NAME, VERSION, TRAITS, CONFIG, HANDLER)                                   \
  extern "C" MXS_PLUGIN_EXPORT const mxs_plugin_v1* MXS_PLUGIN_ENTRY(const mxs_host_v1*) {        \
    return ::mxscreen::plugin::detail::Adapter<CONFIG, HANDLER>::Describe(NAME, VERSION, TRAITS); \
  }

#endif  // MXSCREEN_PLUGIN_V1_MXSCREEN_PLUGIN_HPP_
