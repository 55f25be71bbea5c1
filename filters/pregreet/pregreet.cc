// pregreet: the early-talker verdict and its log line.
#include "filters/pregreet/pregreet.h"

#include "core/duration.h"
#include "core/log_escape.h"

namespace mxs::pregreet {

Verdict PregreetFilter::OnEarlyInput(SessionCallbacks& cb, std::string_view bytes, double delay) {
  // "%.100s" of the escaped text, as Postfix logs it.
  std::string text = CEscape(bytes).substr(0, 100);
  cb.Log("PREGREET %zu after %s from %s: %s", bytes.size(), FormatDelay(delay).c_str(),
         cb.client_tag(), text.c_str());
  return Verdict::Fail("5.5.1 Protocol error");
}

Verdict PregreetFilter::OnGreetWaitEnd(SessionCallbacks&) { return Verdict::Pass(); }

}  // namespace mxs::pregreet
