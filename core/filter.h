// filter: the contract between the session and every screening test, built-in
// or plugin. A filter reports what it found; the session decides what that
// means under the entry's action (ignore/enforce/drop) and what the client sees.
//
// Lifetimes: a FilterConfigFactory is registered once per process; it builds a
// FilterFactory from a validated config (errors surface there, never mid-
// connection); the FilterFactory creates one Filter per session. Hooks run on
// the session's worker thread and must never block.
#pragma once

#include <chrono>
#include <cstdarg>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/dns_resolver.h"
#include "core/ip_address.h"

namespace google::protobuf {
class Descriptor;
class Message;
}  // namespace google::protobuf

namespace mxs {

// What a failure means (postscreen's *_action settings).
enum class Action : uint8_t { kIgnore, kEnforce, kDrop };
const char* ActionName(Action a);

// What a filter found in one hook.
struct Verdict {
  enum class Kind : uint8_t {
    kContinue,     // no opinion (yet); a CIDR table's "dunno"
    kPass,         // this test passed
    kFail,         // this test failed: `reply` (and `drop_reply`) say what to answer
    kAllow,        // permanent allowlist: hand off now, skip every other test
                   // (connect hook only; elsewhere it counts as a pass)
    kDeny,         // permanent denylist: a failure under the entry's action
    kAllowOthers,  // every other pending test passes with this entry's TTL (DNSWL)
    kPending,      // the answer comes later through SessionCallbacks::Resume
  };
  Kind kind = Kind::kContinue;
  // Reply text without the code, e.g. "5.3.2 Service currently unavailable":
  // "550 " is put before it for enforce (on RCPT), "521 " for drop. A text
  // whose enhanced status code is temporary ("4.7.1 Try again later": a rate
  // limit) gets "450 " and "421 " instead, so the reply code and the status
  // code agree in class (RFC 3463) and senders retry rather than bounce.
  std::string reply;
  // A different text for drop, when the test has one (non-SMTP command).
  std::string drop_reply;
  // kPass/kAllowOthers: the TTL of this pass when the filter knows it (DNS
  // answers); zero takes the entry's configured TTL.
  std::chrono::seconds ttl{0};

  static Verdict Continue() { return {}; }
  static Verdict Pass(std::chrono::seconds ttl = std::chrono::seconds(0)) {
    return {Kind::kPass, {}, {}, ttl};
  }
  static Verdict AllowOthers(std::chrono::seconds ttl = std::chrono::seconds(0)) {
    return {Kind::kAllowOthers, {}, {}, ttl};
  }
  static Verdict Pending() { return {Kind::kPending, {}, {}, {}}; }
  static Verdict Allow() { return {Kind::kAllow, {}, {}, {}}; }
  static Verdict Fail(std::string reply, std::string drop_reply = {}) {
    return {Kind::kFail, std::move(reply), std::move(drop_reply), {}};
  }
  static Verdict Deny(std::string reply) { return {Kind::kDeny, std::move(reply), {}, {}}; }
};

// True when a reply text's enhanced status code is temporary ("4.x.y ...").
inline bool IsTemporaryReply(std::string_view text) {
  return text.size() >= 2 && text[0] == '4' && text[1] == '.';
}

// One SMTP command as the engine parsed it.
struct SmtpCommand {
  std::string_view verb;           // as the client wrote it
  std::string_view argument;       // the rest of the line
  std::string_view line;           // the whole line without its ending
  bool more_input_queued = false;  // the client sent more before our reply
  std::string_view queued;         // what it sent after this line (read, not yet answered)
};

// The event loop (worker thread) a session runs on, for filters that finish
// later (plugins' timers and asynchronous verdicts). It outlives every
// session on it; what a posted function touches must be checked for
// liveness by the function itself (a weak_ptr).
class SessionLoop {
 public:
  // A one-shot timer; destroying the handle cancels it (its function is then
  // never called). Destroy it on the loop's thread.
  class Timer {
   public:
    virtual ~Timer() = default;
  };
  virtual ~SessionLoop() = default;
  // Runs `fn` on the loop's thread later, never inside the caller. Safe from
  // any thread.
  virtual void Post(std::function<void()> fn) = 0;
  // Calls `fn` on the loop's thread after `delay`. On the loop's thread.
  virtual std::unique_ptr<Timer> After(std::chrono::milliseconds delay,
                                       std::function<void()> fn) = 0;
};

// What a filter sees of its session and may do to it.
class SessionCallbacks {
 public:
  virtual ~SessionCallbacks() = default;
  virtual const Endpoint& client() const = 0;
  virtual const Endpoint& server() const = 0;
  // "[addr]:port", as every log line writes the client.
  virtual const char* client_tag() const = 0;
  // Logs one line under the listener's program name (printf format).
  virtual void Log(const char* fmt, ...) __attribute__((format(printf, 2, 3))) = 0;
  // Respectful logging: "ALLOWLISTED"/"DENYLISTED" or the older words.
  virtual bool respectful_logging() const = 0;
  // Delivers the verdict of a hook that returned kPending. Must not be called
  // from inside the hook that returned it.
  virtual void Resume(const void* filter, Verdict verdict) = 0;
  // The worker's DNS resolver (core/dns_resolver.h), for filters that look
  // things up (DNSBL); null where there is none. Use it on the hook's thread.
  virtual DnsResolver* dns_resolver() { return nullptr; }
  // The session's event loop; null where there is none (a test harness
  // without one).
  virtual SessionLoop* loop() { return nullptr; }
  // Logs one finished line under a sibling of the listener's program name
  // ("postfix/postscreen" -> "postfix/dnsblog" for `service` "dnsblog"): log
  // analysers expect Postfix's helper daemons under their own names.
  virtual void LogAs(const char* service, const std::string& line) {
    (void)service;
    Log("%s", line.c_str());
  }
};

// What a listener-phase filter made of the bytes read so far (see
// Filter::OnListenerInput). The listener phase runs before the client address
// is final: before the CONNECT line, the limits and every other hook.
struct ListenerVerdict {
  enum class Kind : uint8_t {
    kNeedMore,  // keep reading (until the filter's listener_timeout)
    kDone,      // finished: drop `consumed` bytes, use the endpoints given
    kFail,      // refuse: the filter has logged why; send `reply`, close
  };
  Kind kind = Kind::kNeedMore;
  size_t consumed = 0;             // kDone: leading bytes that were the filter's
  std::optional<Endpoint> client;  // kDone: the real client (nullopt: keep the socket's)
  std::optional<Endpoint> server;  // kDone: the address it connected to (likewise)
  std::string reply;               // kFail: the whole reply line, without "\r\n"

  static ListenerVerdict NeedMore() { return {}; }
  static ListenerVerdict Done(size_t consumed, std::optional<Endpoint> client = std::nullopt,
                              std::optional<Endpoint> server = std::nullopt) {
    return {Kind::kDone, consumed, std::move(client), std::move(server), {}};
  }
  static ListenerVerdict Fail(std::string reply) {
    return {Kind::kFail, 0, std::nullopt, std::nullopt, std::move(reply)};
  }
};

// Why OnListenerInput is called.
enum class ListenerEvent : uint8_t {
  kData,     // bytes arrived (the view holds all unconsumed bytes so far)
  kEof,      // the client closed (or the read failed) before the filter was done
  kTimeout,  // the filter's listener_timeout ran out
};

// Per-session state of one filter; override only the hooks you use.
class Filter {
 public:
  virtual ~Filter() = default;
  // Listener phase (FilterTraits::listener_phase): the raw bytes the client
  // sent so far, before anything else reads them. Bytes after the ones a kDone
  // consumes stay for the tests that follow (a client that talks at once is a
  // pregreet). kEof and kTimeout must answer kDone or kFail. Logging here
  // cannot use client_tag(): the client is not known yet.
  virtual ListenerVerdict OnListenerInput(SessionCallbacks&, std::string_view /*bytes*/,
                                          ListenerEvent) {
    return ListenerVerdict::Done(0);
  }
  // The client address is final (after any PROXY header).
  virtual Verdict OnConnect(SessionCallbacks&) { return Verdict::Continue(); }
  // The tests before the greeting start: the teaser (if any) is sent and the
  // greet wait runs. Called only for tests not already passed (cache).
  virtual Verdict OnBeforeGreeting(SessionCallbacks&) { return Verdict::Continue(); }
  // The greet wait ended (the client stayed silent, or talked and the wait
  // was cut short). Only for tests still undecided.
  virtual Verdict OnGreetWaitEnd(SessionCallbacks&) { return Verdict::Continue(); }
  // The client sent `bytes` during the greet wait, `delay` seconds after it
  // connected. Only for tests still undecided.
  virtual Verdict OnEarlyInput(SessionCallbacks&, std::string_view /*bytes*/, double /*delay*/) {
    return Verdict::Continue();
  }
  // One SMTP command in the built-in engine.
  virtual Verdict OnCommand(SessionCallbacks&, const SmtpCommand&) { return Verdict::Continue(); }
  // One raw line in the engine, with its ending ("\r\n", "\n").
  virtual Verdict OnLine(SessionCallbacks&, std::string_view, std::string_view /*ending*/) {
    return Verdict::Continue();
  }
  // The session ends (handed off, rejected or hung up).
  virtual void OnSessionEnd(SessionCallbacks&) {}
};

// What the session needs to know about a filter before running it.
struct FilterTraits {
  // The pass is remembered with a TTL (PASS OLD needs all cached passes);
  // false means the filter is judged on every connection (access list).
  bool cached = false;
  // Needs the after-greeting SMTP engine to reach a verdict (deep tests).
  bool needs_engine = false;
  // Runs in the greet wait and wants the "220-" teaser sent first (pregreet).
  bool wants_teaser = false;
  // The teaser text after "220-"; empty takes the listener's banner.
  std::string teaser;
  // Reads a header in front of the client's bytes (PROXY protocol) through
  // OnListenerInput before the connect phase; the listener phase ends with
  // kFail when it takes longer than listener_timeout from the accept.
  bool listener_phase = false;
  std::chrono::seconds listener_timeout{5};
};

// Built once per config; creates a Filter for every session.
class FilterFactory {
 public:
  virtual ~FilterFactory() = default;
  virtual FilterTraits traits() const = 0;
  // A stateless filter may hand every session the same shared instance.
  virtual std::shared_ptr<Filter> Create() const = 0;
  // For a filter from outside the core (a plugin): which build was loaded,
  // for the start-up and reload log, so an operator sees what runs. ""
  // for the built-in filters.
  virtual std::string Describe() const { return ""; }
};

// What a filter's config is checked against while a config is built.
class BuildContext {
 public:
  virtual ~BuildContext() = default;
  // The field path of the filter's typed_config, for ConfigError.
  virtual const std::string& path() const = 0;
  // Resolves a path in the config relative to the config file's folder.
  virtual std::string ResolvePath(const std::string& path) const = 0;
  // False when the config is checked away from the gateways that will run
  // it (the control plane validating a push): files named in it are local
  // to each gateway, so a filter checks everything but their contents, and
  // each gateway reads (or NACKs) them when it builds the config.
  virtual bool ReadsLocalFiles() const { return true; }
};

// Registered once per filter type; turns a config message into a factory.
class FilterConfigFactory {
 public:
  virtual ~FilterConfigFactory() = default;
  virtual std::string_view name() const = 0;
  virtual const google::protobuf::Descriptor* config_type() const = 0;
  // The Postfix default action and pass TTL for an envelope that sets none.
  virtual Action default_action() const = 0;
  virtual std::chrono::seconds default_ttl() const = 0;
  // Validates and builds; throws ConfigError (with ctx.path()) on bad config.
  virtual std::shared_ptr<const FilterFactory> Build(const google::protobuf::Message& config,
                                                     BuildContext& ctx) const = 0;
};

}  // namespace mxs
