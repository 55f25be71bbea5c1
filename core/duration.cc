// duration: parsing of config time values and Postfix's log delay format.
#include "core/duration.h"

#include <cmath>
#include <cstdio>
#include <limits>

namespace mxs {

std::optional<Seconds> ParseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  size_t i = 0;
  long long value = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (value > std::numeric_limits<long long>::max() / 10 / 604800) return std::nullopt;
    value = value * 10 + (text[i] - '0');
    ++i;
  }
  if (i == 0) return std::nullopt;
  long long unit = 1;
  if (i < text.size()) {
    if (i + 1 != text.size()) return std::nullopt;
    switch (text[i]) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      case 'w':
        unit = 604800;
        break;
      default:
        return std::nullopt;
    }
  }
  return Seconds(value * unit);
}

std::string FormatDelay(double seconds) {
  if (!(seconds > 0)) return "0";
  // Two significant digits, but never more than two decimals.
  int decimals = 0;
  if (seconds < 0.1) {
    decimals = 2;
  } else if (seconds < 1) {
    decimals = 2;
  } else if (seconds < 10) {
    decimals = 1;
  }
  double scale = std::pow(10.0, decimals);
  double rounded;
  if (seconds >= 10) {
    // Two significant digits of the integer part (e.g. 123 -> 120).
    double magnitude = std::pow(10.0, std::floor(std::log10(seconds)) - 1);
    rounded = std::round(seconds / magnitude) * magnitude;
  } else {
    rounded = std::round(seconds * scale) / scale;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, rounded);
  std::string out(buf);
  if (out.find('.') != std::string::npos) {
    while (!out.empty() && out.back() == '0') out.pop_back();
    if (!out.empty() && out.back() == '.') out.pop_back();
  }
  return out;
}

}  // namespace mxs
