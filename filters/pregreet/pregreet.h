// pregreet: postscreen's pregreet test. The session sends the "220-" teaser
// and waits; a client that sends anything before the wait ends is a bot that
// does not wait for its turn. It reports PREGREET with what it sent; the
// entry's action (postscreen_greet_action, default ignore) decides.
#pragma once

#include "core/filter.h"

namespace mxs::pregreet {

class PregreetFilter : public Filter {
 public:
  Verdict OnEarlyInput(SessionCallbacks& cb, std::string_view bytes, double delay) override;
  Verdict OnGreetWaitEnd(SessionCallbacks& cb) override;
};

}  // namespace mxs::pregreet
