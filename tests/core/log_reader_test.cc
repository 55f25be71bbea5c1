// Tests of the log reader (core/log_reader.h) and of `mxscreen stats` on
// gzip-compressed files: a gzip log counts exactly as its plain text, read in
// any chunking (the magic split across reads, one byte at a time), with
// concatenated members, members that end inside a line, overlong lines; and
// damaged data (truncated, corrupt, trailing junk) gives its exact error.
#include "core/log_reader.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>

#include "core/log_stats.h"
#include "core/stats_cli.h"
#include "tests/support/gzip.h"
#include "tests/support/stats_command_test.h"

namespace mxs {
namespace {

using test::Gzip;

std::string Ps(const std::string& msg) {
  return "Dec  6 19:39:42 mx postfix/postscreen[4242]: " + msg + "\n";
}

// A small log: 9 lines, 3 clients, one line of another program.
std::string SampleLog() {
  return Ps("CONNECT from [192.0.2.1]:1000 to [127.0.0.1]:25") + Ps("PASS OLD [192.0.2.1]:1000") +
         Ps("CONNECT from [192.0.2.2]:1001 to [127.0.0.1]:25") +
         Ps("ALLOWLIST VETO [192.0.2.2]:1001") +
         Ps("PREGREET 11 after 0.1 from [192.0.2.2]:1001: "
            "EHLO x\\r\\n") +
         Ps("DISCONNECT [192.0.2.2]:1001") +
         "Dec  6 19:39:43 mx postfix/smtpd[77]: connect from unknown[192.0.2.1]\n" +
         Ps("CONNECT from [2001:db8::3]:1002 to [::1]:25") + Ps("DISCONNECT [2001:db8::3]:1002");
}

// A source over a string that hands out at most `chunk` bytes per read.
LogSource StringSource(const std::string& data, size_t chunk) {
  auto pos = std::make_shared<size_t>(0);
  return [&data, chunk, pos](char* buf, size_t cap, std::string*) -> long {
    size_t n = std::min({cap, chunk, data.size() - *pos});
    std::memcpy(buf, data.data() + *pos, n);
    *pos += n;
    return static_cast<long>(n);
  };
}

struct Read {
  LogReadResult result;
  std::string json;  // the report, when the read was complete
  uint64_t lines = 0;
};

Read ReadAll(const std::string& data, size_t chunk = 1 << 20,
             LogReaderLimits limits = LogReaderLimits()) {
  LogStats stats;
  Read r;
  r.result = ReadLog(StringSource(data, chunk), "x.gz", &stats, limits);
  StatsReport report = stats.Report(10);
  r.lines = report.lines;
  r.json = FormatStatsJson(report);
  return r;
}

TEST(LogReader, PlainTextIsRead) {
  Read r = ReadAll(SampleLog());
  EXPECT_TRUE(r.result.ok);
  EXPECT_FALSE(r.result.gzip);
  EXPECT_EQ(r.result.bytes, SampleLog().size());
  EXPECT_EQ(r.result.text_bytes, SampleLog().size());
  EXPECT_EQ(r.lines, 9u);
  EXPECT_NE(r.json.find("\"lines\":{\"read\":9,\"counted\":8,\"unrecognized\":0,\"skipped\":1,"),
            std::string::npos)
      << r.json;
}

TEST(LogReader, GzipCountsExactlyAsItsText) {
  std::string gz = Gzip(SampleLog());
  ASSERT_FALSE(gz.empty());
  Read plain = ReadAll(SampleLog());
  Read r = ReadAll(gz);
  ASSERT_TRUE(r.result.ok) << r.result.error;
  EXPECT_TRUE(r.result.gzip);
  EXPECT_EQ(r.result.members, 1u);
  EXPECT_EQ(r.result.bytes, gz.size());
  EXPECT_EQ(r.result.text_bytes, SampleLog().size());
  EXPECT_EQ(r.json, plain.json);
  EXPECT_EQ(r.lines, 9u);
}

TEST(LogReader, AnyChunkingAndBlockSize) {
  std::string gz = Gzip(SampleLog());
  std::string want = ReadAll(SampleLog()).json;
  for (size_t chunk : {1, 2, 3, 7, 64, 4096}) {
    for (size_t block : {16, 100, 1 << 20}) {
      LogReaderLimits limits;
      limits.block = block;
      Read p = ReadAll(SampleLog(), chunk, limits);
      Read g = ReadAll(gz, chunk, limits);
      EXPECT_TRUE(p.result.ok && g.result.ok) << chunk << " " << block;
      EXPECT_TRUE(g.result.gzip) << chunk << " " << block;  // the magic split over two reads
      EXPECT_EQ(p.json, want) << chunk << " " << block;
      EXPECT_EQ(g.json, want) << chunk << " " << block;
    }
  }
}

TEST(LogReader, EveryBlockSizeAndChunking) {
  // Whatever the sizes, some read ends exactly where an output block fills:
  // the text (and the member's end) zlib still holds then must come out.
  std::string log = SampleLog() + SampleLog();
  std::string gz = Gzip(log.substr(0, 700)) + Gzip(log.substr(700));
  std::string want = ReadAll(log).json;
  for (size_t block = 16; block <= 300; ++block) {
    for (size_t chunk : {1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 1 << 20}) {
      LogReaderLimits limits;
      limits.block = block;
      Read g = ReadAll(gz, chunk, limits);
      ASSERT_TRUE(g.result.ok) << block << " " << chunk << ": " << g.result.error;
      ASSERT_EQ(g.result.members, 2u);
      ASSERT_EQ(g.json, want) << block << " " << chunk;
    }
  }
}

TEST(LogReader, ConcatenatedMembersAreAllRead) {
  std::string log = SampleLog();
  // Cut inside a line: the second member continues the first one's last line,
  // and an empty member in between changes nothing (zcat reads the same).
  size_t cut = log.find("PASS OLD") + 4;
  std::string gz = Gzip(log.substr(0, cut)) + Gzip("") + Gzip(log.substr(cut));
  Read r = ReadAll(gz, 5);
  ASSERT_TRUE(r.result.ok) << r.result.error;
  EXPECT_EQ(r.result.members, 3u);
  EXPECT_EQ(r.result.bytes, gz.size());
  EXPECT_EQ(r.json, ReadAll(log).json);
}

TEST(LogReader, LastLineWithoutNewline) {
  std::string log = SampleLog();
  log.pop_back();
  Read r = ReadAll(Gzip(log));
  EXPECT_TRUE(r.result.ok);
  EXPECT_EQ(r.lines, 9u);
  EXPECT_EQ(r.json, ReadAll(SampleLog()).json);
}

TEST(LogReader, OverlongLineIsOneMalformedLineInGzipToo) {
  std::string log = Ps("PASS OLD [192.0.2.1]:1") + std::string(5000, 'x') + "\n" +
                    Ps("PASS OLD [192.0.2.1]:2") + std::string(300, 'y');  // no newline
  LogReaderLimits limits;
  limits.block = 64;
  limits.max_line = 256;
  for (const std::string& data : {log, Gzip(log)}) {
    Read r = ReadAll(data, 1000, limits);
    EXPECT_TRUE(r.result.ok);
    EXPECT_NE(r.json.find("\"lines\":{\"read\":4,\"counted\":2,\"unrecognized\":0,"
                          "\"skipped\":2,\"malformed\":2}"),
              std::string::npos)
        << r.json;
  }
}

TEST(LogReader, TruncatedGzip) {
  std::string gz = Gzip(SampleLog());
  // Anywhere from inside the header to the last trailer byte.
  for (size_t keep : {size_t{2}, size_t{5}, size_t{12}, gz.size() / 2, gz.size() - 1}) {
    Read r = ReadAll(gz.substr(0, keep), 3);
    EXPECT_FALSE(r.result.ok) << keep;
    EXPECT_EQ(r.result.error, "x.gz: gzip data truncated after " + std::to_string(keep) + " bytes");
  }
  // A complete member, then the start of a second one.
  std::string two = gz + gz.substr(0, 10);
  Read r = ReadAll(two);
  EXPECT_EQ(r.result.error,
            "x.gz: gzip data truncated after " + std::to_string(two.size()) + " bytes");
  EXPECT_EQ(r.result.members, 1u);
  // The lines before the damage were fed (the command then prints nothing).
  EXPECT_EQ(r.lines, 9u);
}

TEST(LogReader, CorruptGzip) {
  std::string gz = Gzip(SampleLog());
  const size_t n = gz.size();
  struct Case {
    size_t at;
    char byte;
    std::string error;
  };
  // The trailer: CRC-32 (n-8..n-5), then the length (n-4..n-1). zlib
  // reports a bad CRC once it has read all four of its bytes.
  const Case cases[] = {
      {2, 7, "x.gz: gzip data corrupt after 4 bytes: unknown compression method"},
      {3, static_cast<char>(0xe0),
       "x.gz: gzip data corrupt after 4 bytes: unknown header flags set"},
      {n - 6, 0,
       "x.gz: gzip data corrupt after " + std::to_string(n - 4) + " bytes: incorrect data check"},
      {n - 2, 1,
       "x.gz: gzip data corrupt after " + std::to_string(n) + " bytes: incorrect length check"},
  };
  for (const Case& c : cases) {
    std::string bad = gz;
    bad[c.at] = c.byte == bad[c.at] ? static_cast<char>(c.byte + 1) : c.byte;
    Read r = ReadAll(bad, 7);
    EXPECT_FALSE(r.result.ok) << c.at;
    EXPECT_EQ(r.result.error, c.error) << c.at;
  }
  // Junk after a complete member is not another member.
  Read r = ReadAll(gz + "junk\n");
  EXPECT_EQ(r.result.error, "x.gz: gzip data corrupt after " + std::to_string(n + 2) +
                                " bytes: incorrect header check");
}

TEST(LogReader, DamageAtTheEndIsFoundWhateverTheChunking) {
  // Found by the fuzz target: damage in the last bits of the input, where
  // zlib, when the last read filled the output block, still held decoded
  // but unchecked data. It must be drained, not taken for a truncation.
  const std::string gz(
      "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xb5\x94\xdf\x6e\x82\x30\x14\x87\xef"
      "\x7d\x8a\xf3\x00\x86\x51\x10\x91\x6e\x2e\x5b\xa4\xd9\x4c\x1c\x30\x61\x59\x16"
      "\xf5\x02\xb1\x6e\x6e\xd0\x9a\x82\xff\xde\x7e\x95\xcc\x64\xe2\x06\xc3\x64\x57"
      "\x90\x93\x9e\xef\xfb\x9d\xb6\xa9\x4d\x23\x80\x36\x20\x0b\xeb\x16\x6e\x69\x90"
      "\x6c\x61\xc9\xd3\x6c\xbe\xd8\x5e\xec\xbf\x69\x24\x28\x65\xa3\x86\xd6\xd2\x26"
      "\x18\x7a\xae\xe3\x90\x5e\x00\x73\xc1\x13\x18\x21\x4b\x53\x54\x45\x53\x54\x45"
      "\x53\xd0\x04\x23\x55\x55\x21\xe3\xb2\xa6\x99\xb2\xa6\xe6\x3f\x9a\xd1\xb0\xeb"
      "\xc0\xbd\x5b\x44\x49\x53\x43\x4f\x4e\x4e\x45\x43\x54\x20\xa8\x33\xa3\xfe\x87"
      "\x8c\xee\xc0\x3e\x01\x17\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
      "\xff\xff\xf9\xff\xff\xff\xff\xff\x69\x78\x2f\x70\x6f\x73\x74\x73\x63\x72\x65"
      "\x65\x6e\x5b\x5b\x34\x32\x32\x34\xff\xff\x5d\x3a",
      202);
  for (size_t block : {16, 64, 139, 1000, 1 << 20}) {
    for (size_t chunk : {1, 7, 53, 1 << 20}) {
      LogReaderLimits limits;
      limits.block = block;
      Read r = ReadAll(gz, chunk, limits);
      EXPECT_EQ(r.result.error,
                "x.gz: gzip data corrupt after 202 bytes: invalid distance too far back")
          << block << " " << chunk;
      EXPECT_EQ(r.result.text_bytes, 1085u) << block << " " << chunk;
    }
  }
}

TEST(LogReader, DeflateDataDamageIsCaught) {
  // Whatever byte of the compressed data is damaged, the read stops with an
  // error (the CRC-32 catches what the deflate decoder does not) and never
  // crashes: every single-byte change of the body.
  std::string gz = Gzip(SampleLog());
  for (size_t at = 10; at + 8 < gz.size(); ++at) {
    std::string bad = gz;
    bad[at] ^= 0x55;
    Read r = ReadAll(bad);
    EXPECT_FALSE(r.result.ok) << at;
    EXPECT_EQ(r.result.error.rfind("x.gz: gzip data ", 0), 0u) << r.result.error;
  }
}

TEST(LogReader, SourceErrorIsNamed) {
  int calls = 0;
  LogSource failing = [&calls](char* buf, size_t cap, std::string* error) -> long {
    if (calls++ == 0 && cap >= 2) {
      std::memcpy(buf, "\x1f\x8b", 2);
      return 2;
    }
    *error = "Input/output error";
    return -1;
  };
  LogStats stats;
  LogReadResult r = ReadLog(failing, "mail.log.2.gz", &stats);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "mail.log.2.gz: Input/output error");
}

// ---- the command

using StatsGzipCliTest = test::StatsCommandTest;

TEST_F(StatsGzipCliTest, GzipFilesAndPlainFilesAddUp) {
  std::string log = SampleLog();
  StatsCliOptions o;
  o.json = true;
  o.files = {Write("mail.log", log + log)};
  ASSERT_EQ(Run(o), 0);
  std::string want = out_.str();
  // The name says nothing: the content decides.
  o.files = {Write("mail.log.1", Gzip(log)), Write("mail.log.2.gz", log)};
  ASSERT_EQ(Run(o), 0) << err_.str();
  EXPECT_EQ(out_.str(), want);
  EXPECT_EQ(err_.str(), "");
}

TEST_F(StatsGzipCliTest, GzipOnStdin) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::string gz = Gzip(SampleLog()) + Gzip(SampleLog());
  ASSERT_EQ(write(fds[1], gz.data(), gz.size()), static_cast<ssize_t>(gz.size()));
  close(fds[1]);
  StatsCliOptions o;
  o.stdin_fd = fds[0];
  o.json = true;
  ASSERT_EQ(Run(o), 0) << err_.str();
  close(fds[0]);
  EXPECT_NE(out_.str().find("\"lines\":{\"read\":18,\"counted\":16,"), std::string::npos)
      << out_.str();
  EXPECT_NE(out_.str().find("\"allowlist_veto\":{\"events\":2,\"clients\":1}"), std::string::npos)
      << out_.str();
}

TEST_F(StatsGzipCliTest, DamagedGzipFailsTheCommandAndPrintsNoReport) {
  std::string gz = Gzip(SampleLog());
  StatsCliOptions o;
  o.files = {Write("a.log", SampleLog()), Write("b.gz", gz.substr(0, gz.size() - 3))};
  EXPECT_EQ(Run(o), 1);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(), "mxscreen: " + o.files[1] + ": gzip data truncated after " +
                            std::to_string(gz.size() - 3) + " bytes\n");
  o.files = {Write("c.gz", std::string("\x1f\x8b\x08\x00", 4))};
  EXPECT_EQ(Run(o), 1);
  EXPECT_EQ(err_.str(), "mxscreen: " + o.files[0] + ": gzip data truncated after 4 bytes\n");
}

}  // namespace
}  // namespace mxs
