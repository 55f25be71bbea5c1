// json_string: the JSON string escaper shared by the admin API and the
// stats report.
#include "core/json_string.h"

namespace mxs {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void AppendEscapedByte(unsigned char c, std::string* out) {
  *out += "\\u00";
  *out += kHex[c >> 4];
  *out += kHex[c & 15];
}

// Length of the well-formed UTF-8 sequence at s[i] (lead byte >= 0x80), or 0.
// Overlong forms, surrogates (U+D800..DFFF) and code points past U+10FFFF
// are not well-formed (RFC 3629).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = at(0);
  size_t len = c >= 0xc2 && c <= 0xdf   ? 2
               : c >= 0xe0 && c <= 0xef ? 3
               : c >= 0xf0 && c <= 0xf4 ? 4
                                        : 0;
  if (len == 0 || i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((at(k) & 0xc0) != 0x80) return 0;
  }
  unsigned char c1 = at(1);
  if (c == 0xe0 && c1 < 0xa0) return 0;   // overlong
  if (c == 0xed && c1 >= 0xa0) return 0;  // surrogate
  if (c == 0xf0 && c1 < 0x90) return 0;   // overlong
  if (c == 0xf4 && c1 >= 0x90) return 0;  // past U+10FFFF
  return len;
}

}  // namespace

void AppendJsonString(std::string_view s, JsonNonAscii mode, std::string* out) {
  out->reserve(out->size() + s.size() + 2);
  *out += '"';
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      *out += '\\';
      *out += static_cast<char>(c);
      ++i;
    } else if (c < 0x20 || (c == 0x7f && mode == JsonNonAscii::kEscapeBytes)) {
      AppendEscapedByte(c, out);
      ++i;
    } else if (c < 0x80) {
      *out += static_cast<char>(c);
      ++i;
    } else if (mode == JsonNonAscii::kEscapeBytes) {
      AppendEscapedByte(c, out);
      ++i;
    } else if (size_t len = Utf8SequenceLength(s, i)) {
      out->append(s.data() + i, len);
      i += len;
    } else {
      *out += "\xef\xbf\xbd";
      ++i;
    }
  }
  *out += '"';
}

}  // namespace mxs
