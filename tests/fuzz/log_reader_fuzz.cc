// Fuzz target: the log reader of `mxscreen stats` (core/log_reader.h), the
// gzip decoding included. The input is a whole "file" (a seed may be a real
// .gz); how the source splits it into reads and the reader's buffer sizes
// are derived from a hash of it, so read and line boundaries land
// everywhere. Checked: the read always ends (no crash, no hang); the outcome
// (complete, corrupt, truncated) and the report do not depend on the
// chunking; a plain file counts exactly its non-empty lines; and a plain file
// gzip-compressed, as one member or split into two, gives exactly the plain
// file's report.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "core/log_reader.h"
#include "core/log_stats.h"
#include "tests/support/gzip.h"

using mxs::LogReaderLimits;
using mxs::LogReadResult;
using mxs::LogStats;

// A failed check names its line: the crash report says which invariant broke.
#define Check(ok)                                                         \
  do {                                                                    \
    if (!(ok)) {                                                          \
      std::fprintf(stderr, "log_reader_fuzz.cc:%d: %s\n", __LINE__, #ok); \
      std::abort();                                                       \
    }                                                                     \
  } while (0)

namespace {

struct Outcome {
  LogReadResult result;
  std::string json;
  uint64_t lines = 0;
  uint64_t malformed = 0;
};

Outcome Read(std::string_view file, size_t chunk, const LogReaderLimits& limits) {
  size_t pos = 0;
  mxs::LogSource source = [&](char* buf, size_t cap, std::string*) -> long {
    size_t n = std::min({cap, chunk, file.size() - pos});
    if (n) std::memcpy(buf, file.data() + pos, n);
    pos += n;
    return static_cast<long>(n);
  };
  LogStats stats;
  Outcome o;
  o.result = mxs::ReadLog(source, "fuzz.gz", &stats, limits);
  Check(pos <= file.size());
  mxs::StatsReport r = stats.Report(3);
  o.lines = r.lines;
  o.malformed = r.malformed;
  o.json = mxs::FormatStatsJson(r);
  return o;
}

// The category of an outcome: "" complete, else the error up to " after"
// (where zlib notices damage depends on how much input it was given).
std::string Category(const Outcome& o) {
  if (o.result.ok) return "";
  return o.result.error.substr(0, o.result.error.find(" after "));
}

// Non-empty lines (a trailing '\r' trimmed), the last one without '\n' too.
uint64_t CountLines(std::string_view text) {
  uint64_t n = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) ++n;
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view file(reinterpret_cast<const char*>(data), size);
  uint32_t h = 2166136261u;  // FNV-1a
  for (unsigned char c : file) h = (h ^ c) * 16777619u;
  h ^= h >> 15;
  const size_t chunk = 1 + (h & 63);
  LogReaderLimits limits;
  limits.block = 16 + ((h >> 6) & 127);
  limits.max_line = 32 + ((h >> 13) & 255);  // >= 32: an oversized line is never blank

  Outcome whole = Read(file, SIZE_MAX, limits);
  Outcome chunked = Read(file, chunk, limits);
  Check(Category(whole) == Category(chunked));
  Check(whole.result.gzip == chunked.result.gzip);
  Check(whole.result.bytes <= size);
  if (whole.result.ok) {
    Check(whole.json == chunked.json);
    Check(whole.result.bytes == size);
  } else {
    Check(whole.result.gzip);  // plain text cannot be damaged
    Check(whole.result.error.rfind("fuzz.gz: gzip data ", 0) == 0);
  }
  if (whole.result.gzip) return 0;

  // Plain text: every non-empty line counts once (an overlong one as
  // malformed), and its gzip form, one member or two, reads the same.
  Check(whole.result.text_bytes == size);
  Check(whole.lines == CountLines(file));
  size_t cut = size ? (h >> 21) % (size + 1) : 0;
  for (const std::string& gz : {mxs::test::Gzip(file), mxs::test::Gzip(file.substr(0, cut), 1) +
                                                           mxs::test::Gzip(file.substr(cut), 9)}) {
    Check(!gz.empty());
    Outcome g = Read(gz, chunk, limits);
    Check(g.result.ok && g.result.gzip);
    Check(g.result.text_bytes == size);
    Check(g.json == whole.json);
  }
  return 0;
}
