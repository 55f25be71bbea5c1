// gzip: gzip data made in memory, for the tests and the fuzz target of the
// log reader (core/log_reader.h): one member per call, as `gzip -c` writes
// it, so members can be concatenated as `gzip -c a >> b.gz` does.
#pragma once

#include <zlib.h>

#include <string>
#include <string_view>

namespace mxs::test {

// The gzip member holding `text`; empty if zlib fails (it does not for
// in-memory input).
inline std::string Gzip(std::string_view text, int level = Z_DEFAULT_COMPRESSION) {
  z_stream z{};
  if (deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return {};
  }
  std::string out(deflateBound(&z, text.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return rc == Z_STREAM_END ? out : std::string();
}

}  // namespace mxs::test
