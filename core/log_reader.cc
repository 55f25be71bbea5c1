// log_reader: the line splitting (in place, in one buffer, so plain text is
// never copied) and the gzip decoding (zlib's inflate writing straight into
// that buffer) behind `mxscreen stats`.
#include "core/log_reader.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string_view>

#include "core/log_stats.h"

namespace mxs {
namespace {

// Splits a stream of text into lines. The text is written straight into
// space() by the caller (read(2) or inflate), then Commit()ted. A line of
// max_line bytes or more (newline not counted) is counted once as malformed
// and never buffered whole: its bytes are dropped up to the next newline, so
// memory stays at block + max_line whatever the input.
class LineSplitter {
 public:
  LineSplitter(LogStats* stats, const LogReaderLimits& limits)
      : stats_(stats),
        block_(limits.block),
        max_line_(limits.max_line),
        buf_(new char[limits.block + limits.max_line]) {}

  // Room for at least space_size() bytes of text (have_ < max_line_ always).
  char* space() { return buf_.get() + have_; }
  size_t space_size() const { return block_; }

  // n bytes were written at space(): feed every complete line.
  void Commit(size_t n) {
    char* p = buf_.get();
    char* end = p + have_ + n;
    char* line = p;
    while (char* nl = static_cast<char*>(std::memchr(p, '\n', end - p))) {
      if (oversized_) {
        oversized_ = false;
      } else if (static_cast<size_t>(nl - line) >= max_line_) {
        // Too long however it arrived: the verdict must not depend on where
        // the reads happened to split the text.
        stats_->AddOversizedLine();
      } else {
        stats_->AddLine(std::string_view(line, nl - line));
      }
      p = line = nl + 1;
    }
    have_ = end - line;
    if (oversized_) {
      have_ = 0;
    } else if (have_ >= max_line_) {
      // Count it once, as the junk it is, then skip to the next newline.
      stats_->AddOversizedLine();
      oversized_ = true;
      have_ = 0;
    } else {
      std::memmove(buf_.get(), line, have_);
    }
  }

  // End of text: a last line without its newline still counts.
  void Finish() {
    if (have_ && !oversized_) stats_->AddLine(std::string_view(buf_.get(), have_));
    have_ = 0;
  }

 private:
  LogStats* stats_;
  size_t block_;
  size_t max_line_;
  std::unique_ptr<char[]> buf_;
  size_t have_ = 0;         // bytes of an unfinished line at the start of buf_
  bool oversized_ = false;  // inside a line that was too long: drop until '\n'
};

bool IsGzipMagic(const char* p) {
  return static_cast<unsigned char>(p[0]) == 0x1f && static_cast<unsigned char>(p[1]) == 0x8b;
}

// The gzip path. `first` holds the first bytes of the file (the magic
// included), already read into the splitter's buffer.
void Inflate(const LogSource& source, const std::string& name, const LogReaderLimits& limits,
             LineSplitter* lines, size_t first, LogReadResult* r) {
  auto fail = [&](std::string message) {
    r->ok = false;
    r->error = name + ": " + message;
  };
  std::unique_ptr<unsigned char[]> in(new unsigned char[limits.block]);
  std::memcpy(in.get(), lines->space(), first);
  z_stream z{};
  // 16 + MAX_WBITS: gzip framing only (header, CRC-32 and length checked).
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return fail("gzip: out of memory");
  std::unique_ptr<z_stream, int (*)(z_stream*)> end(&z, inflateEnd);
  z.next_in = in.get();
  z.avail_in = static_cast<uInt>(first);
  uint64_t offset = 0;  // file offset of in[0]
  size_t fill = first;  // bytes in `in`
  bool eof = false;
  bool member_open = true;  // inside a member: its end not yet seen
  for (;;) {
    if (z.avail_in == 0 && !eof) {
      offset += fill;
      fill = 0;
      std::string error;
      long n = source(reinterpret_cast<char*>(in.get()), limits.block, &error);
      if (n < 0) return fail(error);
      eof = n == 0;
      r->bytes += n;
      fill = static_cast<size_t>(n);
      z.next_in = in.get();  // so that offset + (next_in - in) is the file offset
      z.avail_in = static_cast<uInt>(fill);
    }
    if (eof && z.avail_in == 0 && !member_open) break;  // the end, between members
    // At the end of the input inflate is still called: it may hold decoded
    // text (or the member's end) that did not fit the last output block.
    z.next_out = reinterpret_cast<unsigned char*>(lines->space());
    z.avail_out = static_cast<uInt>(lines->space_size());
    int rc = inflate(&z, Z_NO_FLUSH);
    size_t produced = lines->space_size() - z.avail_out;
    r->text_bytes += produced;
    lines->Commit(produced);
    if (rc == Z_STREAM_END) {
      // One member done; another may follow (concatenated gzip files).
      ++r->members;
      member_open = false;
      inflateReset(&z);
      continue;
    }
    if (rc == Z_OK || rc == Z_BUF_ERROR) {
      // Z_BUF_ERROR: no progress possible without more input (the output
      // always has room); at the end of the input, the member is cut short.
      member_open = true;
      if (rc == Z_BUF_ERROR && eof) {
        return fail("gzip data truncated after " + std::to_string(r->bytes) + " bytes");
      }
      continue;
    }
    uint64_t at = offset + static_cast<uint64_t>(z.next_in - in.get());
    return fail("gzip data corrupt after " + std::to_string(at) + " bytes: " +
                (z.msg               ? z.msg
                 : rc == Z_MEM_ERROR ? "out of memory"
                                     : "unreadable"));
  }
  lines->Finish();
}

}  // namespace

LogReadResult ReadLog(const LogSource& source, const std::string& name, LogStats* stats,
                      const LogReaderLimits& requested) {
  LogReaderLimits limits = requested;
  limits.block = std::max<size_t>(limits.block, 16);
  limits.max_line = std::max<size_t>(limits.max_line, 1);
  LogReadResult r;
  LineSplitter lines(stats, limits);
  // The first two bytes decide: read until there are two (a pipe may give one).
  size_t got = 0;
  while (got < 2) {
    std::string error;
    long n = source(lines.space() + got, limits.block - got, &error);
    if (n < 0) {
      r.ok = false;
      r.error = name + ": " + error;
      return r;
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  r.bytes = got;
  if (got >= 2 && IsGzipMagic(lines.space())) {
    r.gzip = true;
    Inflate(source, name, limits, &lines, got, &r);
    return r;
  }
  bool eof = got < 2;
  r.text_bytes = got;
  lines.Commit(got);
  while (!eof) {
    std::string error;
    long n = source(lines.space(), lines.space_size(), &error);
    if (n < 0) {
      r.ok = false;
      r.error = name + ": " + error;
      return r;
    }
    if (n == 0) break;
    r.bytes += n;
    r.text_bytes += n;
    lines.Commit(static_cast<size_t>(n));
  }
  lines.Finish();
  return r;
}

}  // namespace mxs
