// session: one client connection from accept to hand-off or close, and the
// one place that decides what a filter's verdict means under its action.
// Phases: listener (a PROXY header, when configured) -> connect (limits,
// access list, verdict cache) -> tests before the
// greeting (teaser, greet wait) -> built-in SMTP engine (when a deep test runs
// or a failure is enforced) -> conclude (store passes, PASS NEW, hand-off or
// reject). It knows no filter by name.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/filter.h"
#include "core/gateway_config.h"
#include "core/greet_wait_queue.h"
#include "core/listener_metrics.h"
#include "core/listener_state.h"
#include "core/smtp_engine.h"

namespace mxs {

class Worker;

class Session : public std::enable_shared_from_this<Session>,
                public SessionCallbacks,
                public SmtpEngineHost {
 public:
  Session(Worker& worker, std::shared_ptr<const ListenerConfig> config,
          std::shared_ptr<ListenerState> state, boost::asio::ip::tcp::socket socket);
  ~Session() override;
  void Start();
  // The greet wait's time is up (called by the worker's GreetWaitQueue).
  void OnGreetWaitDeadline();

  // SessionCallbacks / SmtpEngineHost
  const Endpoint& client() const override { return client_; }
  const Endpoint& server() const override { return server_; }
  const char* client_tag() const override { return client_tag_; }
  void Log(const char* fmt, ...) override __attribute__((format(printf, 2, 3)));
  bool respectful_logging() const override { return config_->respectful_logging; }
  void Resume(const void* filter, Verdict verdict) override;
  std::string_view enforced_rcpt_reply() const override { return enforced_reply_; }
  DnsResolver* dns_resolver() override;
  void LogAs(const char* service, const std::string& line) override;
  void OnRcptRejected(std::string_view reply) override;

 private:
  // Per chain entry: what this session knows of the test. The transitions
  // go through PassTest/FailTest only.
  enum class TestState : uint8_t {
    kTodo,     // not decided yet
    kPending,  // the filter will Resume() with its verdict
    kPassed,   // passed in this session (or found in the cache)
    kFailed,   // failed; under `ignore` the failure is not acted on
  };
  struct Slot {
    std::shared_ptr<Filter> filter;
    TestState state = TestState::kTodo;
    bool from_cache = false;  // passed in an earlier session, still valid
    Seconds ttl{0};           // the TTL to store a pass with
  };
  enum class Outcome : uint8_t { kGoOn, kAllow, kDropped };
  enum class Phase : uint8_t { kConnect, kEarly, kEngine, kDone };

  // Listener phase: chain entries with traits.listener_phase (a PROXY header
  // reader) see the raw input first and may replace client_/server_; the
  // connect phase then runs with the real client. False when there is none.
  bool StartListenerPhase(size_t from);
  void ReadListenerInput();
  void RunListenerFilter(ListenerEvent event);
  // Sends the filter's reply and closes; nothing was logged for the client
  // yet, so no DISCONNECT either (postscreen does the same).
  void FailListenerPhase(const std::string& reply);

  void ConnectPhase();
  // Marks the cached tests whose passes are still valid; true when all are.
  bool ApplyCachedPasses();
  // Applies one verdict of chain entry `i`.
  Outcome Apply(size_t i, Verdict v);
  // `count`: record the verdict in the metrics (false when the pass stands
  // in for an ignored failure, already counted as would_fail).
  void PassTest(size_t i, Seconds ttl, bool count = true);
  void FailTest(size_t i);
  // Metrics: the connection's one outcome (the first call wins), and a
  // rejecting reply by its code (also feeding the top-talkers tracker).
  const ListenerMetrics& M() const { return *config_->metrics; }
  void RecordOutcome(SessionOutcome o);
  void RecordReject(std::string_view reply);

  void StartEarlyTests();
  void ReadEarlyInput();
  // Reads what the kernel holds into in_ (non-blocking).
  boost::system::error_code ReadAvailable(size_t* n);
  void OnEarlyInput(size_t n);
  void EndGreetWait();
  bool EarlyTestsUndecided() const;
  void AfterEarlyTests();

  void StartEngine();
  void ReadCommands();
  void WaitForCommands();
  void ProcessInput();
  void ArmCommandTimer();
  boost::asio::steady_timer& Timer();
  // Cancels the timer and leaves the greet-wait queue: the session's waits end.
  void StopTimers();

  // Stores this session's passes, unless a test failed under enforce/drop.
  void StorePasses();
  bool AllCachedPassed(bool* any_cached, bool* any_new) const;
  void LogPassNewIfComplete();

  void Send(std::string data, bool then_close);
  void FlushOutput();
  // Sends `data` and then closes the session (logging DISCONNECT).
  void ReplyAndClose(std::string data);
  void HandOff();
  void Close();
  void Hangup(const char* where);
  void ReleaseScreeningSlots();
  double SecondsSinceConnect() const;
  bool stress() const { return state_->stress.load(std::memory_order_relaxed); }

  Worker& worker_;
  std::shared_ptr<const ListenerConfig> config_;
  std::shared_ptr<ListenerState> state_;
  boost::asio::ip::tcp::socket socket_;
  // The listener-phase and engine timer, made when first needed: sessions
  // in the greet wait (the idle crowd) use the worker's GreetWaitQueue.
  std::unique_ptr<boost::asio::steady_timer> timer_;
  GreetWaitQueue::Link greet_link_;
  std::chrono::steady_clock::time_point started_;
  Endpoint client_;
  Endpoint server_;
  char client_tag_[64] = "[unknown]:0";
  std::vector<Slot> slots_;
  // Only sessions that reach the engine pay for it.
  std::unique_ptr<SmtpEngine> engine_;
  std::string enforced_reply_;  // "550 ..." of the most recent enforced failure
  std::string in_;              // bytes read and not yet consumed
  std::string out_;             // reply being written
  std::string pending_out_;     // replies queued behind it
  Phase phase_ = Phase::kConnect;
  // The listener-phase filter at work (an instance of its own, released when
  // it is done) and its chain index.
  std::shared_ptr<Filter> listener_filter_;
  size_t listener_index_ = 0;
  bool client_counted_ = false;
  bool active_counted_ = false;  // in mxs_connections_active (the relay takes it over)
  bool outcome_recorded_ = false;
  bool denied_ = false;  // a connect-time deny acted on (enforce or drop)
  bool under_test_ = false;
  bool teaser_sent_ = false;
  bool early_input_ = false;  // the client talked before its turn
  bool failed_hard_ = false;  // a failure under enforce or drop: store nothing
  bool passes_stored_ = false;
  bool pass_new_logged_ = false;
  bool closed_ = false;
  bool writing_ = false;
  bool early_read_pending_ = false;
  bool close_after_write_ = false;
  bool handoff_after_write_ = false;
};

}  // namespace mxs
