// pipelining: postscreen's command pipelining test. The engine never announces
// PIPELINING, so a client that sends its next command before it has our
// reply to the previous one is a bot that does not read replies. It reports
// COMMAND PIPELINING with the command and the input that was already waiting;
// the entry's action (postscreen_pipelining_action, default enforce) decides.
// Like every deep test it passes when the client reaches RCPT, and can still
// fail on a later command of the same session.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/filter.h"

namespace mxs::pipelining {

// Per-session state: one byte, so that every session gets its own instance
// without touching the heap beyond the object.
class PipeliningFilter : public Filter {
 public:
  Verdict OnCommand(SessionCallbacks& cb, const SmtpCommand& cmd) override;

 private:
  enum class State : uint8_t { kTodo, kPassed, kDone };
  State state_ = State::kTodo;
};

// The command name as postscreen takes it for its log: the line up to the
// first space (a tab belongs to the name), leading spaces skipped.
std::string_view CommandName(std::string_view line);

// `name` as postscreen logs it ("%.100s" of printable()): at most 100 bytes,
// bytes that are neither printable ASCII nor part of a UTF-8 sequence as '?'.
std::string PrintableName(std::string_view name);

}  // namespace mxs::pipelining
