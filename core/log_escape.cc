// log_escape: the escaping table.
#include "core/log_escape.h"

#include <cstdio>

namespace mxs {

std::string CEscape(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + 8);
  for (unsigned char c : bytes) {
    switch (c) {
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out += static_cast<char>(c);
        } else {
          char buf[5];
          std::snprintf(buf, sizeof buf, "\\%03o", c);
          out += buf;
        }
    }
  }
  return out;
}

}  // namespace mxs
