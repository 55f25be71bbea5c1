// non_smtp: postscreen's non-SMTP command test. A client that sends an HTTP
// request, a proxy CONNECT or mail headers to the SMTP port is not a mail
// server. A command the engine does not know fails when it is a forbidden
// command (postscreen_forbidden_commands: names and regular expressions) or
// looks like a header ("Subject: hi"). It reports NON-SMTP COMMAND; the
// entry's action (postscreen_non_smtp_command_action, default drop) decides,
// and drop answers postscreen's "I can break rules, too". Like every deep
// test it passes when the client reaches RCPT, and can still fail on a later
// command of the same session.
#pragma once

#include <regex.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/filter.h"

namespace mxs::non_smtp {

// A forbidden_commands entry that cannot be used: its index and why.
struct BadForbiddenCommand : std::invalid_argument {
  BadForbiddenCommand(size_t i, const std::string& why) : std::invalid_argument(why), index(i) {}
  size_t index;
};

// The forbidden commands of one config; built once, shared by every session.
class ForbiddenCommands {
 public:
  // The Postfix 3.7 default: CONNECT GET POST and regexp:{{/^[^A-Z]/ Bogus}}.
  static const std::vector<std::string>& Defaults();
  // Entries are command names or "/regex/" (POSIX extended, any case).
  // Throws BadForbiddenCommand.
  explicit ForbiddenCommands(const std::vector<std::string>& entries);
  ~ForbiddenCommands();
  ForbiddenCommands(const ForbiddenCommands&) = delete;
  ForbiddenCommands& operator=(const ForbiddenCommands&) = delete;
  // True when the command name `name` is forbidden.
  bool Matches(std::string_view name) const;

 private:
  std::vector<std::string> names_;
  std::vector<std::unique_ptr<regex_t>> patterns_;
};

// Per-session state: the previous command for "after %s" and where the test
// stands; the table is shared.
class NonSmtpFilter : public Filter {
 public:
  explicit NonSmtpFilter(std::shared_ptr<const ForbiddenCommands> forbidden)
      : forbidden_(std::move(forbidden)) {}
  Verdict OnCommand(SessionCallbacks& cb, const SmtpCommand& cmd) override;

 private:
  enum class State : uint8_t { kTodo, kPassed, kDone };
  std::shared_ptr<const ForbiddenCommands> forbidden_;
  // postscreen's "where": the upper-case name of the last command it knew,
  // "UNIMPLEMENTED" after one it did not, "CONNECT" before the first. Always
  // a string literal.
  const char* where_ = "CONNECT";
  State state_ = State::kTodo;
};

// postscreen's is_header() on a command name: "Name:" or "Name :" with a name
// of printable ASCII other than space and colon.
bool LooksLikeHeader(std::string_view name);

}  // namespace mxs::non_smtp
