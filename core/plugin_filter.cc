// plugin_filter: the Filter of a plugin entry, the host functions a plugin
// calls (mxs_host_v1), hook timing and the plugin metrics.
//
// Threads: hooks, timers and the resume of a pending verdict run on the
// session's worker thread. A plugin may call log and resume from its own
// threads until destroy_session returns; resume then only records the
// verdict and posts its application to the worker's loop (it is never
// applied inside a hook: the session is in the middle of that hook).
// Lifetime: the session owns its PluginSession; posted work and timers hold
// only weak references, and everything after OnSessionEnd is ignored (the
// session object is being destroyed then).
#include "core/plugin_filter.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "core/config_error.h"
#include "core/filter_registry.h"
#include "core/log_escape.h"
#include "core/metrics.h"
#include "core/plugin_loader.h"
#include "mxscreen/config/v1/bootstrap.pb.h"

namespace mxs {
namespace {

using Clock = std::chrono::steady_clock;

enum Hook : int {
  kConnect,
  kBeforeGreeting,
  kGreetWaitEnd,
  kCommand,
  kLine,
  kSessionEnd,
  kCreateSession,
  kDestroySession,
  kTimer,
  kHookCount,
};
constexpr const char* kHookNames[kHookCount] = {
    "connect",     "before_greeting", "greet_wait_end",  "command", "line",
    "session_end", "create_session",  "destroy_session", "timer"};

// Arguments larger than this are refused (mxscreen_plugin.h).
constexpr size_t kMaxArg = 64 * 1024;
constexpr size_t kMaxReply = 500;
constexpr const char* kDefaultReply = "5.7.1 Service unavailable";
constexpr uint64_t kHandleMagic = 0x6d78732d706c7567;  // "mxs-plug"

// "5 ms", "0.5 ms": a duration in milliseconds for the overrun warning.
std::string Millis(std::chrono::microseconds us) {
  char buf[32];
  if (us.count() % 1000 == 0) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(us.count() / 1000));
  } else {
    std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(us.count()) / 1000.0);
    std::string s(buf);
    while (s.back() == '0') s.pop_back();
    return s;
  }
  return buf;
}

// One built plugin entry: its image, its config object, budget and metrics.
// Shared by the factory and every session made from it, so the plugin's
// config lives until the last session using it ends.
struct PluginShared {
  std::shared_ptr<const PluginImage> image;
  const mxs_plugin_v1* p = nullptr;
  void* config = nullptr;
  std::string name;  // the entry's
  std::chrono::microseconds budget{kPluginDefaultHookBudget};
  metrics::Histogram* duration[kHookCount] = {};
  metrics::Counter* overruns[kHookCount] = {};

  ~PluginShared() {
    if (config != nullptr && p->destroy_config != nullptr) p->destroy_config(config);
  }
};

// A verdict given to resume, checked and copied.
struct Deferred {
  int code = MXS_CONTINUE;
  std::string reply;
  std::string log_line;
};

class PluginSession : public Filter, public std::enable_shared_from_this<PluginSession> {
 public:
  explicit PluginSession(std::shared_ptr<const PluginShared> shared) : shared_(std::move(shared)) {
    handle_.pub.host = PluginHostTable();
    handle_.magic = kHandleMagic;
    handle_.self = this;
  }
  ~PluginSession() override {
    handle_.magic = 0;
    // Normally destroyed in OnSessionEnd already; a session that never ended
    // (a torn-down worker) still frees the plugin's state, without logging.
    if (created_ && !destroyed_) {
      destroyed_ = true;
      auto t0 = Clock::now();
      if (p()->destroy_session != nullptr) p()->destroy_session(state_, &handle_.pub);
      Observe(kDestroySession, Clock::now() - t0, /*log=*/false);
    }
  }

  Verdict OnConnect(SessionCallbacks& cb) override {
    return Run(cb, kConnect, [this] {
      return p()->on_connect ? p()->on_connect(state_, &handle_.pub) : MXS_CONTINUE;
    });
  }
  Verdict OnBeforeGreeting(SessionCallbacks& cb) override {
    return Run(cb, kBeforeGreeting, [this] {
      return p()->on_before_greeting ? p()->on_before_greeting(state_, &handle_.pub) : MXS_CONTINUE;
    });
  }
  Verdict OnGreetWaitEnd(SessionCallbacks& cb) override {
    return Run(cb, kGreetWaitEnd, [this] {
      return p()->on_greet_wait_end ? p()->on_greet_wait_end(state_, &handle_.pub) : MXS_CONTINUE;
    });
  }
  Verdict OnCommand(SessionCallbacks& cb, const SmtpCommand& c) override {
    Remember(c);
    return Run(cb, kCommand, [this, &c] {
      if (!p()->on_command) return static_cast<int>(MXS_CONTINUE);
      mxs_command mc{c.verb.data(), c.verb.size(), c.argument.data(),          c.argument.size(),
                     c.line.data(), c.line.size(), c.more_input_queued ? 1 : 0};
      return p()->on_command(state_, &handle_.pub, &mc);
    });
  }
  Verdict OnLine(SessionCallbacks& cb, std::string_view line, std::string_view ending) override {
    return Run(cb, kLine, [&] {
      return p()->on_line ? p()->on_line(state_, &handle_.pub, line.data(), line.size(),
                                         ending.data(), ending.size())
                          : MXS_CONTINUE;
    });
  }
  void OnSessionEnd(SessionCallbacks& cb) override;

  // --- what the host functions do, once the handle is checked.
  static PluginSession* From(mxs_session* s) {
    if (s == nullptr) return nullptr;
    auto* h = reinterpret_cast<Handle*>(s);
    return h->magic == kHandleMagic ? h->self : nullptr;
  }
  void Log(int level, std::string_view line);
  void Warn(const std::string& what);  // the gateway's own warning about this plugin
  bool OnLoopThread() const { return cb_ != nullptr && std::this_thread::get_id() == thread_; }
  // Refuses (with a warning) a call made off the session's thread.
  bool CheckThread(const char* fn);
  bool GetEndpoint(const Endpoint& e, mxs_endpoint* out);
  SessionCallbacks* callbacks() const { return cb_; }
  const std::string& filter_name() const { return shared_->name; }
  int SmtpValue(int what, uint32_t index, const char** data, size_t* len);
  int Fail(const char* reply, size_t reply_len, const char* log, size_t log_len);
  int Resume(int verdict, const char* reply, size_t reply_len, const char* log, size_t log_len);
  uint64_t ArmTimer(uint32_t delay_ms, mxs_timer_fn fn, void* arg);
  int CancelTimer(uint64_t id);

 private:
  // The public handle and what finds this object again from it.
  struct Handle {
    mxs_session pub;
    uint64_t magic;
    PluginSession* self;
  };
  struct TimerEntry {
    std::unique_ptr<SessionLoop::Timer> timer;
    mxs_timer_fn fn;
    void* arg;
  };

  const mxs_plugin_v1* p() const { return shared_->p; }
  // Binds the session on the first hook and creates the plugin's state.
  void Bind(SessionCallbacks& cb);
  template <typename F>
  Verdict Run(SessionCallbacks& cb, Hook hook, F&& call);
  void Observe(Hook hook, Clock::duration d, bool log = true);
  // A verdict code and the failure details -> Verdict (logging the line).
  Verdict Convert(const char* where, int code, bool fail_ok, const std::string& reply,
                  const std::string& log_line);
  // Checks reply/log arguments; empty optional when bad (and warned).
  std::optional<Deferred> CheckDetails(const char* fn, int code, const char* reply,
                                       size_t reply_len, const char* log, size_t log_len);
  void PostResume(Deferred d);
  void ApplyResume(const Deferred& d);
  void FireTimer(uint64_t id);
  void CallTimer(mxs_timer_fn fn, void* arg, int why);
  void Remember(const SmtpCommand& c);

  Handle handle_{};
  std::shared_ptr<const PluginShared> shared_;
  SessionCallbacks* cb_ = nullptr;
  SessionLoop* loop_ = nullptr;
  std::thread::id thread_;
  void* state_ = nullptr;
  bool created_ = false;
  bool destroyed_ = false;
  bool ending_ = false;  // session end under way: no new timers
  // The hook running now (kHookCount: none) and what host->fail said in it.
  Hook in_hook_ = kHookCount;
  int fail_calls_ = 0;
  bool fail_bad_ = false;
  std::string fail_reply_;
  std::string fail_log_;
  // Shared with the plugin's threads (resume).
  std::mutex mu_;
  bool ended_ = false;
  bool hook_running_ = false;
  bool pending_ = false;
  std::optional<Deferred> early_resume_;  // resume called while its hook ran
  bool early_twice_ = false;
  std::map<uint64_t, TimerEntry> timers_;
  uint64_t next_timer_ = 1;
  // What the client sent so far in the engine (host->smtp_value).
  std::optional<std::string> helo_, mail_from_;
  std::vector<std::string> rcpt_to_;
};

void PluginSession::Bind(SessionCallbacks& cb) {
  if (cb_ != nullptr) return;
  cb_ = &cb;
  loop_ = cb.loop();
  thread_ = std::this_thread::get_id();
  if (p()->create_session != nullptr) {
    auto t0 = Clock::now();
    state_ = p()->create_session(shared_->config, &handle_.pub);
    Observe(kCreateSession, Clock::now() - t0);
  }
  created_ = true;
}

void PluginSession::Observe(Hook hook, Clock::duration d, bool log) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d);
  shared_->duration[hook]->Observe(std::chrono::duration<double>(d).count());
  if (us <= shared_->budget) return;
  shared_->overruns[hook]->Inc();
  if (log && cb_ != nullptr) {
    // Whole milliseconds from 10 ms on, one decimal below ("0.4 ms").
    char took[32];
    if (us.count() >= 10000) {
      std::snprintf(took, sizeof took, "%lld", static_cast<long long>(us.count() / 1000));
    } else {
      std::snprintf(took, sizeof took, "%.1f", static_cast<double>(us.count()) / 1000.0);
    }
    cb_->Log("warning: plugin %s: hook %s took %s ms (budget %s ms)", shared_->name.c_str(),
             kHookNames[hook], took, Millis(shared_->budget).c_str());
  }
}

void PluginSession::Warn(const std::string& what) {
  if (cb_ != nullptr) cb_->Log("warning: plugin %s: %s", shared_->name.c_str(), what.c_str());
}

void PluginSession::Log(int level, std::string_view line) {
  if (cb_ == nullptr) return;
  std::string text = CEscape(line);
  if (level == MXS_LOG_WARNING) {
    cb_->Log("warning: %s", text.c_str());
  } else {
    cb_->Log("%s", text.c_str());
  }
}

bool PluginSession::CheckThread(const char* fn) {
  if (OnLoopThread()) return true;
  Warn(std::string(fn) + " called off the session's thread (ignored)");
  return false;
}

template <typename F>
Verdict PluginSession::Run(SessionCallbacks& cb, Hook hook, F&& call) {
  Bind(cb);
  if (ending_) return Verdict::Continue();
  {
    std::lock_guard<std::mutex> lock(mu_);
    hook_running_ = true;
    early_resume_.reset();
    early_twice_ = false;
  }
  in_hook_ = hook;
  fail_calls_ = 0;
  fail_bad_ = false;
  fail_reply_.clear();
  fail_log_.clear();
  auto t0 = Clock::now();
  int code = call();
  Observe(hook, Clock::now() - t0);
  in_hook_ = kHookCount;

  std::string where = std::string("hook ") + kHookNames[hook];
  bool fail_ok = fail_calls_ <= 1 && !fail_bad_;
  if (code == MXS_FAIL && fail_calls_ > 1) Warn(where + " reported a failure twice (ignored)");
  Verdict v = Convert(where.c_str(), code, fail_ok, fail_calls_ == 1 ? fail_reply_ : kDefaultReply,
                      fail_log_);
  if (v.kind == Verdict::Kind::kPending && loop_ == nullptr) {
    Warn(where + " returned pending, but this session cannot resume (ignored)");
    v = Verdict::Continue();
  }
  std::optional<Deferred> early;
  bool stray = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    hook_running_ = false;
    if (v.kind == Verdict::Kind::kPending) {
      if (early_resume_) {
        early = std::move(early_resume_);
      } else {
        pending_ = true;
      }
    } else if (early_resume_) {
      stray = true;
    }
    early_resume_.reset();
  }
  if (stray) Warn("resume called in " + where + ", which did not return pending (ignored)");
  // Resumed before its hook even returned: the session applies it later,
  // from its loop, never inside this hook.
  if (early) PostResume(std::move(*early));
  return v;
}

Verdict PluginSession::Convert(const char* where, int code, bool fail_ok, const std::string& reply,
                               const std::string& log_line) {
  switch (code) {
    case MXS_CONTINUE:
      return Verdict::Continue();
    case MXS_PASS:
      return Verdict::Pass();
    case MXS_PENDING:
      return Verdict::Pending();
    case MXS_FAIL:
      if (!fail_ok) return Verdict::Continue();
      if (!log_line.empty() && cb_ != nullptr) cb_->Log("%s", CEscape(log_line).c_str());
      return Verdict::Fail(reply);
    default:
      Warn(std::string(where) + " returned an unknown verdict " + std::to_string(code) +
           " (no opinion)");
      return Verdict::Continue();
  }
}

std::optional<Deferred> PluginSession::CheckDetails(const char* fn, int code, const char* reply,
                                                    size_t reply_len, const char* log,
                                                    size_t log_len) {
  Deferred d;
  d.code = code;
  if ((reply == nullptr && reply_len > 0) || (log == nullptr && log_len > 0)) {
    Warn(std::string(fn) + " called with a NULL string (ignored)");
    return std::nullopt;
  }
  if (reply_len > kMaxReply) {
    Warn(std::string(fn) + " called with a reply of " + std::to_string(reply_len) +
         " bytes (at most 500; ignored)");
    return std::nullopt;
  }
  if (log_len > kMaxArg) {
    Warn(std::string(fn) + " called with a log line of " + std::to_string(log_len) +
         " bytes (at most 65536; ignored)");
    return std::nullopt;
  }
  for (size_t i = 0; i < reply_len; ++i) {
    auto c = static_cast<unsigned char>(reply[i]);
    if (c < 0x20 || c > 0x7e) {
      Warn(std::string(fn) + " called with a reply that is not printable ASCII (ignored)");
      return std::nullopt;
    }
  }
  if (reply_len > 0) d.reply.assign(reply, reply_len);
  if (log_len > 0) d.log_line.assign(log, log_len);
  return d;
}

int PluginSession::Fail(const char* reply, size_t reply_len, const char* log, size_t log_len) {
  if (!CheckThread("fail")) return 0;
  if (in_hook_ == kHookCount) {
    Warn("fail called outside a hook (ignored; use resume to finish a pending hook)");
    return 0;
  }
  ++fail_calls_;
  auto d = CheckDetails("fail", MXS_FAIL, reply, reply_len, log, log_len);
  if (!d) {
    fail_bad_ = true;
    return 0;
  }
  if (fail_calls_ > 1) return 0;
  fail_reply_ = d->reply.empty() ? kDefaultReply : d->reply;
  fail_log_ = d->log_line;
  return 1;
}

int PluginSession::Resume(int verdict, const char* reply, size_t reply_len, const char* log,
                          size_t log_len) {
  std::optional<Deferred> d;
  if (verdict != MXS_CONTINUE && verdict != MXS_PASS && verdict != MXS_FAIL) {
    Warn("resume called with verdict " + std::to_string(verdict) + " (no opinion)");
    d = Deferred{};
  } else {
    d = CheckDetails("resume", verdict, reply, reply_len, log, log_len);
    if (!d) d = Deferred{};  // bad details: the pending test gets no opinion
  }
  std::unique_lock<std::mutex> lock(mu_);
  if (ended_) return 0;
  if (pending_) {
    // An earlier hook's verdict (even while another hook runs now).
    pending_ = false;
    lock.unlock();
    PostResume(std::move(*d));
    return 1;
  }
  if (hook_running_) {
    if (early_resume_ || early_twice_) {
      early_twice_ = true;
      lock.unlock();
      Warn("resume called twice for one pending hook (ignored)");
      return 0;
    }
    early_resume_ = std::move(d);
    return 1;
  }
  lock.unlock();
  Warn("resume called with no pending hook (ignored)");
  return 0;
}

void PluginSession::PostResume(Deferred d) {
  loop_->Post([weak = weak_from_this(), d = std::move(d)] {
    if (auto self = weak.lock()) self->ApplyResume(d);
  });
}

void PluginSession::ApplyResume(const Deferred& d) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ended_) return;
  }
  Verdict v =
      Convert("resume", d.code, true, d.reply.empty() ? kDefaultReply : d.reply, d.log_line);
  cb_->Resume(static_cast<const Filter*>(this), std::move(v));
}

uint64_t PluginSession::ArmTimer(uint32_t delay_ms, mxs_timer_fn fn, void* arg) {
  if (!CheckThread("arm_timer")) return 0;
  if (fn == nullptr) {
    Warn("arm_timer called without a function (ignored)");
    return 0;
  }
  if (ending_ || loop_ == nullptr) return 0;
  uint64_t id = next_timer_++;
  auto timer = loop_->After(std::chrono::milliseconds(delay_ms), [weak = weak_from_this(), id] {
    if (auto self = weak.lock()) self->FireTimer(id);
  });
  timers_.emplace(id, TimerEntry{std::move(timer), fn, arg});
  return id;
}

int PluginSession::CancelTimer(uint64_t id) {
  if (!CheckThread("cancel_timer")) return 0;
  auto it = timers_.find(id);
  if (it == timers_.end()) return 0;
  TimerEntry e = std::move(it->second);
  timers_.erase(it);
  CallTimer(e.fn, e.arg, MXS_TIMER_CANCELLED);
  return 1;
}

void PluginSession::FireTimer(uint64_t id) {
  if (ending_) return;
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  TimerEntry e = std::move(it->second);
  timers_.erase(it);
  CallTimer(e.fn, e.arg, MXS_TIMER_FIRED);
}

void PluginSession::CallTimer(mxs_timer_fn fn, void* arg, int why) {
  auto t0 = Clock::now();
  fn(state_, &handle_.pub, arg, why);
  Observe(kTimer, Clock::now() - t0);
}

void PluginSession::OnSessionEnd(SessionCallbacks& cb) {
  if (!created_ || destroyed_) return;
  (void)cb;
  ending_ = true;
  // Every armed timer gets its one call, before on_session_end.
  while (!timers_.empty()) {
    TimerEntry e = std::move(timers_.begin()->second);
    timers_.erase(timers_.begin());
    CallTimer(e.fn, e.arg, MXS_TIMER_CANCELLED);
  }
  if (p()->on_session_end != nullptr) {
    auto t0 = Clock::now();
    p()->on_session_end(state_, &handle_.pub);
    Observe(kSessionEnd, Clock::now() - t0);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ended_ = true;
    pending_ = false;
  }
  // The state goes now, while the session (and its log) still exists: the
  // plugin's threads may call log/resume until destroy_session returns.
  destroyed_ = true;
  if (p()->destroy_session != nullptr) {
    auto t0 = Clock::now();
    p()->destroy_session(state_, &handle_.pub);
    Observe(kDestroySession, Clock::now() - t0);
  }
  state_ = nullptr;
}

int PluginSession::SmtpValue(int what, uint32_t index, const char** data, size_t* len) {
  if (!CheckThread("smtp_value")) return 0;
  if (data == nullptr || len == nullptr) {
    Warn("smtp_value called with a NULL out-parameter (ignored)");
    return 0;
  }
  const std::string* v = nullptr;
  switch (what) {
    case MXS_SMTP_HELO:
      if (helo_ && index == 0) v = &*helo_;
      break;
    case MXS_SMTP_MAIL_FROM:
      if (mail_from_ && index == 0) v = &*mail_from_;
      break;
    case MXS_SMTP_RCPT_TO:
      if (index < rcpt_to_.size()) v = &rcpt_to_[index];
      break;
    default:
      Warn("smtp_value called for unknown field " + std::to_string(what) + " (ignored)");
      return 0;
  }
  if (v == nullptr) return 0;
  *data = v->data();
  *len = v->size();
  return 1;
}

bool PluginSession::GetEndpoint(const Endpoint& e, mxs_endpoint* out) {
  static_assert(sizeof out->address >= IpAddress::kMaxText);
  std::memset(out, 0, sizeof *out);
  e.address.Format(out->address);
  out->port = e.port;
  out->family = e.address.is_v4() ? MXS_AF_INET : MXS_AF_INET6;
  return true;
}

// The argument after "FROM:" / "TO:" (any case), trimmed; empty without it.
std::string AfterColon(std::string_view arg, std::string_view key) {
  while (!arg.empty() && arg.front() == ' ') arg.remove_prefix(1);
  if (arg.size() < key.size()) return {};
  for (size_t i = 0; i < key.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(arg[i])) != key[i]) return {};
  }
  arg.remove_prefix(key.size());
  while (!arg.empty() && arg.front() == ' ') arg.remove_prefix(1);
  while (!arg.empty() && arg.back() == ' ') arg.remove_suffix(1);
  return std::string(arg.substr(0, kMaxArg));
}

bool VerbIs(std::string_view verb, const char* want) {
  size_t n = std::strlen(want);
  if (verb.size() != n) return false;
  for (size_t i = 0; i < n; ++i) {
    if (std::toupper(static_cast<unsigned char>(verb[i])) != want[i]) return false;
  }
  return true;
}

void PluginSession::Remember(const SmtpCommand& c) {
  if (VerbIs(c.verb, "HELO") || VerbIs(c.verb, "EHLO")) {
    std::string_view a = c.argument;
    while (!a.empty() && a.front() == ' ') a.remove_prefix(1);
    while (!a.empty() && a.back() == ' ') a.remove_suffix(1);
    helo_ = std::string(a.substr(0, kMaxArg));
  } else if (VerbIs(c.verb, "MAIL")) {
    mail_from_ = AfterColon(c.argument, "FROM:");
    rcpt_to_.clear();
  } else if (VerbIs(c.verb, "RCPT") && rcpt_to_.size() < 1000) {
    rcpt_to_.push_back(AfterColon(c.argument, "TO:"));
  } else if (VerbIs(c.verb, "RSET")) {
    mail_from_.reset();
    rcpt_to_.clear();
  }
}

// --- the host table: each function finds its session and checks arguments.

void HostLog(mxs_session* s, int level, const char* line, size_t len) {
  PluginSession* self = PluginSession::From(s);
  if (self == nullptr) return;
  if (line == nullptr && len > 0) {
    self->Warn("log called with a NULL line (ignored)");
    return;
  }
  if (len > kMaxArg) {
    self->Warn("log called with " + std::to_string(len) + " bytes (at most 65536; ignored)");
    return;
  }
  self->Log(level, std::string_view(line ? line : "", len));
}

int HostClient(mxs_session* s, mxs_endpoint* out) {
  PluginSession* self = PluginSession::From(s);
  if (self == nullptr || out == nullptr || !self->CheckThread("client")) return 0;
  return self->GetEndpoint(self->callbacks()->client(), out) ? 1 : 0;
}

int HostServer(mxs_session* s, mxs_endpoint* out) {
  PluginSession* self = PluginSession::From(s);
  if (self == nullptr || out == nullptr || !self->CheckThread("server")) return 0;
  return self->GetEndpoint(self->callbacks()->server(), out) ? 1 : 0;
}

void HostClientTag(mxs_session* s, const char** data, size_t* len) {
  PluginSession* self = PluginSession::From(s);
  if (data == nullptr || len == nullptr) return;
  *data = "";
  *len = 0;
  if (self == nullptr || !self->CheckThread("client_tag")) return;
  *data = self->callbacks()->client_tag();
  *len = std::strlen(*data);
}

void HostFilterName(mxs_session* s, const char** data, size_t* len) {
  PluginSession* self = PluginSession::From(s);
  if (data == nullptr || len == nullptr) return;
  *data = "";
  *len = 0;
  if (self == nullptr) return;
  *data = self->filter_name().data();
  *len = self->filter_name().size();
}

int HostSmtpValue(mxs_session* s, int what, uint32_t index, const char** data, size_t* len) {
  PluginSession* self = PluginSession::From(s);
  return self == nullptr ? 0 : self->SmtpValue(what, index, data, len);
}

int HostFail(mxs_session* s, const char* reply, size_t reply_len, const char* log, size_t log_len) {
  PluginSession* self = PluginSession::From(s);
  return self == nullptr ? 0 : self->Fail(reply, reply_len, log, log_len);
}

int HostResume(mxs_session* s, int verdict, const char* reply, size_t reply_len, const char* log,
               size_t log_len) {
  PluginSession* self = PluginSession::From(s);
  return self == nullptr ? 0 : self->Resume(verdict, reply, reply_len, log, log_len);
}

uint64_t HostArmTimer(mxs_session* s, uint32_t delay_ms, mxs_timer_fn fn, void* arg) {
  PluginSession* self = PluginSession::From(s);
  return self == nullptr ? 0 : self->ArmTimer(delay_ms, fn, arg);
}

int HostCancelTimer(mxs_session* s, uint64_t id) {
  PluginSession* self = PluginSession::From(s);
  return self == nullptr ? 0 : self->CancelTimer(id);
}

const mxs_host_v1 kHost = {
    sizeof(mxs_host_v1),
    MXS_PLUGIN_ABI_VERSION_MINOR,
    &HostLog,
    &HostClient,
    &HostServer,
    &HostClientTag,
    &HostFilterName,
    &HostSmtpValue,
    &HostFail,
    &HostResume,
    &HostArmTimer,
    &HostCancelTimer,
};

class PluginFactory : public FilterFactory {
 public:
  PluginFactory(std::shared_ptr<const PluginShared> shared, FilterTraits traits)
      : shared_(std::move(shared)), traits_(std::move(traits)) {}
  FilterTraits traits() const override { return traits_; }
  std::shared_ptr<Filter> Create() const override {
    return std::make_shared<PluginSession>(shared_);
  }
  std::string Describe() const override {
    const mxs_plugin_v1* p = shared_->p;
    std::string version = p->version != nullptr && p->version[0] != '\0'
                              ? CEscape(std::string_view(p->version, strnlen(p->version, 256)))
                              : "(no version)";
    return "plugin " + CEscape(p->name) + " " + version + " (ABI " + shared_->image->abi_version +
           ") from " + shared_->image->path + ", sha256 " + shared_->image->sha256;
  }

 private:
  std::shared_ptr<const PluginShared> shared_;
  FilterTraits traits_;
};

bool IsHex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::vector<double> HookBuckets() {
  return {0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1};
}

}  // namespace

const mxs_host_v1* PluginHostTable() { return &kHost; }

std::optional<std::chrono::microseconds> ParseHookBudget(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
    ++i;
  }
  if (i == 0 || i > 12) return std::nullopt;
  std::string num = text.substr(0, i);
  std::string unit = text.substr(i);
  if (std::count(num.begin(), num.end(), '.') > 1 || num == ".") return std::nullopt;
  double v = std::strtod(num.c_str(), nullptr);
  double scale;
  if (unit == "us") {
    scale = 1;
  } else if (unit == "ms") {
    scale = 1e3;
  } else if (unit == "s" || unit.empty()) {
    scale = 1e6;
  } else {
    return std::nullopt;
  }
  double us = v * scale;
  if (us < 1 || us > 60e6) return std::nullopt;
  return std::chrono::microseconds(static_cast<int64_t>(us));
}

std::shared_ptr<const FilterFactory> BuildPluginFilter(
    const mxscreen::config::v1::PluginFilter& plugin, const std::string& name,
    const std::vector<std::string>& plugin_path, const std::string& path, BuildContext& ctx) {
  auto shared = std::make_shared<PluginShared>();
  shared->name = name;
  if (plugin.path().empty()) {
    throw ConfigError(path + ".path", "a plugin needs the path of its shared object");
  }
  if (!plugin.hook_budget().empty()) {
    auto b = ParseHookBudget(plugin.hook_budget());
    if (!b) {
      throw ConfigError(path + ".hook_budget",
                        "bad time value \"" + plugin.hook_budget() +
                            "\" (a number with a unit us, ms or s, from 1us to 60s)");
    }
    shared->budget = *b;
  }
  if (!plugin.sha256().empty() && !IsHex64(plugin.sha256())) {
    throw ConfigError(path + ".sha256", "expected 64 lowercase hex digits");
  }
  std::string json = "{}";
  if (plugin.has_config()) {
    json.clear();
    auto st = google::protobuf::util::MessageToJsonString(plugin.config(), &json);
    if (!st.ok()) throw ConfigError(path + ".config", "cannot encode as JSON");
  }
  if (!ctx.ReadsLocalFiles()) {
    // The control plane: the file is each gateway's to load (or NACK).
    return FixedFilterFactory::Shared(FilterTraits{}, std::make_shared<Filter>());
  }
  std::string file;
  try {
    // The config file's folder, as BuildContext resolves relative paths.
    std::string probe = ctx.ResolvePath("p");
    std::string config_dir = probe.size() > 2 ? probe.substr(0, probe.size() - 2) : "";
    file = ResolvePluginPath(plugin.path(), config_dir, plugin_path);
    shared->image = LoadPlugin(file, plugin.sha256());
  } catch (const PluginLoadError& e) {
    throw ConfigError(path + ".path", e.what());
  }
  shared->p = shared->image->plugin;
  char error[512] = {0};
  shared->config = shared->p->create_config(json.data(), json.size(), error, sizeof error);
  if (shared->config == nullptr) {
    error[sizeof error - 1] = '\0';
    throw ConfigError(path + ".config", std::string("refused by plugin ") + shared->p->name + ": " +
                                            (error[0] ? error : "no reason given"));
  }
  auto& reg = metrics::Registry::Get();
  for (int h = 0; h < kHookCount; ++h) {
    metrics::Labels labels = {{"plugin", name}, {"hook", kHookNames[h]}};
    shared->duration[h] =
        &reg.GetHistogram("mxs_plugin_hook_duration_seconds",
                          "Time spent in one call of a plugin's hook.", labels, HookBuckets());
    shared->overruns[h] =
        &reg.GetCounter("mxs_plugin_hook_overruns_total",
                        "Plugin hook calls that took longer than the entry's hook_budget.", labels);
  }
  reg.GetGauge("mxs_plugin_info", "A loaded plugin filter (always 1).",
               {{"plugin", name}, {"abi_version", shared->image->abi_version}, {"path", file}})
      .Set(1);
  FilterTraits traits;
  uint32_t t = shared->p->traits;
  traits.cached = (t & MXS_TRAIT_CACHED) != 0;
  traits.needs_engine = (t & MXS_TRAIT_NEEDS_ENGINE) != 0;
  traits.wants_teaser = (t & MXS_TRAIT_WANTS_TEASER) != 0;
  return std::make_shared<PluginFactory>(std::move(shared), traits);
}

}  // namespace mxs
