// bare_newline: postscreen's bare newline test. SMTP lines end in CR LF; a
// client that ends one with LF alone is a hand-written script or a bot. It
// reports BARE NEWLINE with the offending line; the entry's action
// (postscreen_bare_newline_action, default ignore) decides. Like every deep
// test it passes when the client reaches RCPT, and can still fail on a later
// line of the same session.
#pragma once

#include <cstdint>

#include "core/filter.h"

namespace mxs::bare_newline {

// Per-session state: one byte, so that every session gets its own instance
// without touching the heap beyond the object.
class BareNewlineFilter : public Filter {
 public:
  Verdict OnLine(SessionCallbacks& cb, std::string_view line, std::string_view ending) override;
  Verdict OnCommand(SessionCallbacks& cb, const SmtpCommand& cmd) override;

 private:
  enum class State : uint8_t { kTodo, kPassed, kDone };
  State state_ = State::kTodo;
};

}  // namespace mxs::bare_newline
