// duration: Postfix-style time values ("30s", "5m", "1h", "1d", "1w", plain
// seconds) for config, and the delay format Postfix writes in its log lines.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace mxs {

using Seconds = std::chrono::seconds;

// Parses a Postfix time value; nullopt when it is not one.
std::optional<Seconds> ParseDuration(std::string_view text);

// Formats a delay the way Postfix logs it: at most two significant digits and
// at most two decimals, trailing zeros dropped ("0", "0.3", "0.15", "1.2", "12").
std::string FormatDelay(double seconds);

}  // namespace mxs
