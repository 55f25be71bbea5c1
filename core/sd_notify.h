// sd_notify: the systemd readiness protocol (Type=notify) without libsystemd:
// one datagram of "KEY=value" lines to the AF_UNIX socket named by
// $NOTIFY_SOCKET ("@name" for the abstract namespace). Lets systemd start
// dependent units only once the listeners are bound and privileges dropped.
#pragma once

#include <string>

namespace mxs {

// Sends `state` (e.g. "READY=1\nSTATUS=...") when $NOTIFY_SOCKET is set.
// Returns "" when sent or when there is no socket, else the reason.
std::string SdNotify(const std::string& state);

}  // namespace mxs
