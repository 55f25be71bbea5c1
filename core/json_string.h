// json_string: the one JSON string escaper. The admin API and the stats
// report both write JSON by hand (small, fixed shapes; no JSON library
// dependency in core), and they differ only in what a byte >= 0x80 becomes:
// the admin API carries text that should stay readable (UTF-8 kept), the
// stats report carries raw log bytes that must survive exactly.
#pragma once

#include <string>
#include <string_view>

namespace mxs {

enum class JsonNonAscii {
  // Well-formed UTF-8 is copied; any other byte becomes U+FFFD.
  kKeepUtf8,
  // Every byte >= 0x7f becomes \u00XX, so each input byte is recoverable
  // (as its Latin-1 code point) whatever the input's encoding.
  kEscapeBytes,
};

// Appends `s` as a JSON string literal, quotes included. Quote, backslash
// and control bytes are always escaped, so the output is valid JSON.
void AppendJsonString(std::string_view s, JsonNonAscii mode, std::string* out);

inline std::string JsonString(std::string_view s, JsonNonAscii mode = JsonNonAscii::kKeepUtf8) {
  std::string out;
  AppendJsonString(s, mode, &out);
  return out;
}

}  // namespace mxs
