// log_reader: turns the bytes of one log, plain or gzip-compressed, into the
// lines LogStats counts. Owned here because `mxscreen stats` must read
// logrotate's mail.log.2.gz as it reads mail.log, in the same bounded memory:
// neither a file nor its decompressed text is ever held whole, only one block
// of input, one block of text and the unfinished line.
//
// Compression is recognised by content (gzip's magic bytes 1f 8b at the
// start), never by file name, so stdin works too. Concatenated gzip members
// (`gzip -c a >> b.gz`) are read one after the other, as zcat does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace mxs {

class LogStats;

// Where the bytes come from: fills buf with up to cap (> 0) bytes and
// returns how many, 0 at the end, or -1 with *error set (a message without
// the file name).
using LogSource = std::function<long(char* buf, size_t cap, std::string* error)>;

struct LogReaderLimits {
  size_t block = 1 << 20;       // bytes per read, and text per inflate step
  size_t max_line = 64 * 1024;  // a line this long or longer counts once, as malformed
};

struct LogReadResult {
  bool ok = true;
  bool gzip = false;        // the input was gzip-compressed
  uint64_t bytes = 0;       // bytes read from the source
  uint64_t text_bytes = 0;  // bytes of text (decompressed, for gzip)
  uint64_t members = 0;     // complete gzip members
  std::string error;        // "NAME: ..." when !ok
};

// Reads everything `source` holds and feeds its lines to stats. On a read
// error or damaged gzip data it stops there and says so in the result: the
// lines before the damage have been fed, and the caller decides what they
// are worth (the stats command prints no report then).
//
// The error messages (`name` first):
//   NAME: ERROR                                        the source's own error
//   NAME: gzip data corrupt after N bytes: ZLIB'S REASON
//   NAME: gzip data truncated after N bytes   (the file ends inside a member)
// N counts the file's bytes zlib had read when it noticed (the damage is at
// or shortly before that offset).
LogReadResult ReadLog(const LogSource& source, const std::string& name, LogStats* stats,
                      const LogReaderLimits& limits = LogReaderLimits());

}  // namespace mxs
