// config_text: configs as people read them, for mxscreenctl (show, diff)
// and the control plane's audit log (a one-line summary of each change).
#pragma once

#include <string>

#include "mxscreen/config/v1/bootstrap.pb.h"

namespace mxs::control {

namespace config = ::mxscreen::config;

// Indented JSON with the proto field names, the same form a config file takes.
std::string ConfigToJson(const config::v1::Bootstrap& config);

// What changed from `before` (null: nothing before) to `after`, in one line:
// "listener smtp: filters dnsbl, access_cidr changed; workers changed".
std::string SummarizeChange(const config::v1::Bootstrap* before,
                            const config::v1::Bootstrap& after);

// A unified diff (3 lines of context) of two texts; "" when equal.
std::string UnifiedDiff(const std::string& a, const std::string& b, const std::string& a_label,
                        const std::string& b_label);

}  // namespace mxs::control
