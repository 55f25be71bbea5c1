// smtp_engine: the built-in SMTP engine that talks to a client after the
// greeting when a deep test must run or a test failed under `enforce`
// (postscreen's "dummy" smtpd). It never accepts mail: RCPT gets the enforced
// failure's 550 or a 450 that makes a good client come back later. Pure logic
// over complete lines, no I/O, so it is unit-tested and fuzzed directly; the
// session feeds it lines and sends what it answers.
#pragma once

#include <string>
#include <string_view>

#include "core/gateway_config.h"

namespace mxs {

// What the engine needs from its session.
class SmtpEngineHost {
 public:
  virtual ~SmtpEngineHost() = default;
  virtual void Log(const char* fmt, ...) __attribute__((format(printf, 2, 3))) = 0;
  virtual const char* client_tag() const = 0;
  // The full reply for RCPT ("550 5.3.2 ..."); empty means "450 4.3.2 ...".
  virtual std::string_view enforced_rcpt_reply() const = 0;
  // A RCPT was refused with `reply` (the NOQUEUE line is logged): metrics.
  virtual void OnRcptRejected(std::string_view reply) { (void)reply; }
};

class SmtpEngine {
 public:
  SmtpEngine(const EngineConfig& config, std::string hostname, SmtpEngineHost& host)
      : config_(config), hostname_(std::move(hostname)), host_(host) {}

  enum class Next : uint8_t { kContinue, kClose };

  // Answers one complete command line (without its ending), appending the
  // reply to *out. kClose: send *out, then close the connection.
  Next OnLine(std::string_view line, std::string* out);
  // The line was longer than the limit: appends the 421 and logs.
  void OnLineTooLong(std::string* out);
  // The command time limit expired: appends the 421 and logs.
  void OnTimeout(std::string* out);

  // The last command seen, upper case ("CONNECT" before any): the "after %s"
  // of log lines.
  const char* where() const { return where_; }
  std::string_view helo() const { return helo_; }
  std::string_view sender() const { return sender_; }
  bool has_sender() const { return has_sender_; }
  bool esmtp() const { return esmtp_; }

  // Splits "VERB argument": the verb and the rest without leading blanks.
  static void SplitCommand(std::string_view line, std::string_view* verb, std::string_view* arg);

 private:
  void Rcpt(std::string_view arg, std::string* out);

  const EngineConfig& config_;
  std::string hostname_;
  SmtpEngineHost& host_;
  const char* where_ = "CONNECT";
  uint32_t command_count_ = 0;
  std::string helo_;
  std::string sender_;
  bool has_sender_ = false;
  bool esmtp_ = false;
};

}  // namespace mxs
