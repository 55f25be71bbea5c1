// bare_newline: the test and its log line, as Postfix 3.7's postscreen writes
// it (checked against the real daemon on loopback).
#include "filters/bare_newline/bare_newline.h"

#include <strings.h>

#include <string>

#include "core/log_escape.h"

namespace mxs::bare_newline {

Verdict BareNewlineFilter::OnLine(SessionCallbacks& cb, std::string_view line,
                                  std::string_view ending) {
  if (state_ == State::kDone || ending != "\n") return Verdict::Continue();
  // After one failure postscreen skips the test for the rest of the session:
  // one log line, and no pass at RCPT (under `ignore` the session has already
  // counted the failure as a short pass).
  state_ = State::kDone;
  // postscreen finds the bare LF while it is still reading the line, so its
  // "after %s" is that line itself (not the previous command, as in the other
  // "after" lines): at most 100 bytes of it, C-escaped.
  std::string text = CEscape(line.substr(0, 100));
  cb.Log("BARE NEWLINE from %s after %s", cb.client_tag(), text.c_str());
  return Verdict::Fail("5.5.1 Protocol error");
}

Verdict BareNewlineFilter::OnCommand(SessionCallbacks&, const SmtpCommand& cmd) {
  // The session calls OnLine first, so a RCPT line that ends in a bare LF has
  // already failed here and does not pass. postscreen takes the command name
  // up to the first space only ("RCPT\tTO:" is not RCPT to it).
  std::string_view line = cmd.line;
  size_t b = line.find_first_not_of(' ');
  std::string_view name = b == std::string_view::npos ? std::string_view{} : line.substr(b);
  name = name.substr(0, name.find(' '));
  if (state_ == State::kTodo && name.size() == 4 && strncasecmp(name.data(), "RCPT", 4) == 0) {
    state_ = State::kPassed;
    return Verdict::Pass();
  }
  return Verdict::Continue();
}

}  // namespace mxs::bare_newline
