// pipelining: the test and its log line, byte for byte as Postfix 3.7's
// postscreen writes it (checked against the real daemon on loopback).
#include "filters/pipelining/pipelining.h"

#include <strings.h>

#include <string>

#include "core/log_escape.h"

namespace mxs::pipelining {
namespace {

bool IsCommand(std::string_view name, const char* verb) {
  size_t n = std::char_traits<char>::length(verb);
  return name.size() == n && strncasecmp(name.data(), verb, n) == 0;
}

}  // namespace

std::string_view CommandName(std::string_view line) {
  size_t b = line.find_first_not_of(' ');
  if (b == std::string_view::npos) return {};
  line.remove_prefix(b);
  return line.substr(0, line.find(' '));
}

std::string PrintableName(std::string_view name) {
  // Postfix's printable() with SMTPUTF8 on (its default): a lead byte
  // followed by continuation bytes keeps them all, anything else that is not
  // printable ASCII becomes '?'. The 100-byte cut comes after, as "%.100s".
  std::string out(name);
  for (size_t i = 0; i < out.size(); ++i) {
    auto c = static_cast<unsigned char>(out[i]);
    auto continuation = [&](size_t j) {
      return j < out.size() && (static_cast<unsigned char>(out[j]) & 0xC0) == 0x80;
    };
    if (c >= 0x20 && c < 0x7f) continue;
    if (c >= 0xC2 && c <= 0xFE && continuation(i + 1)) {
      while (continuation(i + 1)) ++i;
      continue;
    }
    out[i] = '?';
  }
  if (out.size() > 100) out.resize(100);
  return out;
}

Verdict PipeliningFilter::OnCommand(SessionCallbacks& cb, const SmtpCommand& cmd) {
  if (state_ == State::kDone) return Verdict::Continue();
  std::string_view name = CommandName(cmd.line);
  if (cmd.more_input_queued) {
    // After one failure postscreen skips the test for the rest of the
    // session: one log line, and no pass at RCPT (under `ignore` the session
    // has already counted the failure as a short pass).
    state_ = State::kDone;
    // Postfix escapes at most 100 bytes of what is waiting and prints all of
    // the escaped text ("%s"), so a line of control bytes shows up to 400.
    std::string queued = CEscape(cmd.queued.substr(0, 100));
    cb.Log("COMMAND PIPELINING from %s after %s: %s", cb.client_tag(), PrintableName(name).c_str(),
           queued.c_str());
    return Verdict::Fail("5.5.1 Protocol error");
  }
  // The client got this far without talking out of turn: the deep tests
  // pass on RCPT (any RCPT, as postscreen counts it, whatever its syntax).
  if (state_ == State::kTodo && IsCommand(name, "RCPT")) {
    state_ = State::kPassed;
    return Verdict::Pass();
  }
  return Verdict::Continue();
}

}  // namespace mxs::pipelining
