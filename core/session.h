// session: one client connection from accept to hand-off or close, and the
// one place that decides what a filter's verdict means under its action.
// Phases: connect (limits, access list) -> tests before the greeting ->
// built-in SMTP engine (when a deep test runs or a failure is enforced) ->
// conclude (PASS NEW, hand-off or reject). It knows no filter by name.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/filter.h"
#include "core/gateway_config.h"
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

  // SessionCallbacks / SmtpEngineHost
  const Endpoint& client() const override { return client_; }
  const Endpoint& server() const override { return server_; }
  const char* client_tag() const override { return client_tag_; }
  void Log(const char* fmt, ...) override __attribute__((format(printf, 2, 3)));
  bool respectful_logging() const override { return config_->respectful_logging; }
  void Resume(const void* filter, Verdict verdict) override;
  std::string_view enforced_rcpt_reply() const override { return enforced_reply_; }

 private:
  // Per chain entry: what this session knows of the test.
  enum class TestState : uint8_t { kTodo, kPending, kPassed, kFailed };
  struct Slot {
    std::shared_ptr<Filter> filter;
    TestState state = TestState::kTodo;
  };
  enum class Outcome : uint8_t { kGoOn, kAllow, kDropped };

  void ConnectPhase();
  // Applies one verdict of chain entry `i`. The named transitions of a test.
  Outcome Apply(size_t i, Verdict v);
  void PassTest(size_t i);
  void FailTest(size_t i);

  void AfterEarlyTests();
  void StartEngine();
  void ReadCommands();
  void ProcessInput();
  void ArmCommandTimer();
  void OnCommandTimeout();

  // Sends `data` and then closes the session (logging DISCONNECT).
  void ReplyAndClose(std::string data);
  void Send(std::string data, bool then_close);
  void FlushOutput();
  double SecondsSinceConnect() const;
  void HandOff();
  void Close();
  void ReleaseScreeningSlots();

  Worker& worker_;
  std::shared_ptr<const ListenerConfig> config_;
  std::shared_ptr<ListenerState> state_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  Endpoint client_;
  Endpoint server_;
  char client_tag_[64] = "[unknown]:0";
  std::vector<Slot> slots_;
  std::optional<SmtpEngine> engine_;
  std::string enforced_reply_;  // "550 ..." of the most recent enforced failure
  std::string in_;              // bytes read and not yet consumed
  std::string out_;             // reply being written
  std::string pending_out_;     // replies queued behind it
  std::chrono::steady_clock::time_point started_;
  bool close_after_write_ = false;
  bool handoff_after_write_ = false;
  bool client_counted_ = false;
  bool under_test_ = false;
  bool teaser_sent_ = false;
  bool closed_ = false;
  bool writing_ = false;
};

}  // namespace mxs
