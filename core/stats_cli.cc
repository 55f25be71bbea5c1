// stats_cli: file reading for `mxscreen stats`. Blocks of 1 MiB through
// read(2), lines split in place; a line longer than kMaxLine is skipped as
// malformed rather than buffered, so memory stays bounded whatever the input.
#include "core/stats_cli.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "core/log_stats.h"

namespace mxs {
namespace {

constexpr size_t kBlock = 1 << 20;
constexpr size_t kMaxLine = 64 * 1024;  // postscreen lines are < 2 KiB

// Feeds every line of fd to stats. False with *error set on a read error.
bool ReadLines(int fd, const std::string& name, LogStats* stats, std::string* error) {
  std::unique_ptr<char[]> buf(new char[kBlock + kMaxLine]);
  size_t have = 0;         // bytes of an unfinished line at the start of buf
  bool oversized = false;  // inside a line that was too long: drop until '\n'
  bool first = true;
  for (;;) {
    ssize_t n = read(fd, buf.get() + have, kBlock);
    if (n < 0) {
      if (errno == EINTR) continue;
      *error = name + ": " + std::strerror(errno);
      return false;
    }
    if (first && n >= 2 && static_cast<unsigned char>(buf[0]) == 0x1f &&
        static_cast<unsigned char>(buf[1]) == 0x8b) {
      *error = name + ": gzip-compressed; read it with: zcat " + name + " | mxscreen stats";
      return false;
    }
    first = false;
    if (n == 0) break;
    char* p = buf.get();
    char* end = buf.get() + have + n;
    char* line = p;
    while (char* nl = static_cast<char*>(std::memchr(p, '\n', end - p))) {
      if (oversized) {
        oversized = false;
      } else {
        stats->AddLine(std::string_view(line, nl - line));
      }
      p = line = nl + 1;
    }
    have = end - line;
    if (oversized) {
      have = 0;
    } else if (have >= kMaxLine) {
      // Count it once, as the junk it is, then skip to the next newline.
      stats->AddOversizedLine();
      oversized = true;
      have = 0;
    } else {
      std::memmove(buf.get(), line, have);
    }
  }
  if (have && !oversized) stats->AddLine(std::string_view(buf.get(), have));
  return true;
}

}  // namespace

int RunStatsCommand(const StatsCliOptions& options, std::ostream& out, std::ostream& err) {
  std::vector<std::string> files = options.files;
  if (files.empty()) files.push_back("-");
  // Open everything first: a typo in the third name must not cost the
  // reading of two large files before it is reported.
  std::vector<int> fds;
  auto close_all = [&fds, &options] {
    for (int fd : fds) {
      if (fd != options.stdin_fd) close(fd);
    }
  };
  for (const auto& f : files) {
    int fd = f == "-" ? options.stdin_fd : open(f.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      err << "mxscreen: " << f << ": " << std::strerror(errno) << "\n";
      close_all();
      return 1;
    }
    fds.push_back(fd);
  }
  LogStats stats{ProgramFilter(options.programs)};
  for (size_t i = 0; i < files.size(); ++i) {
    std::string error;
    bool ok = ReadLines(fds[i], files[i] == "-" ? "stdin" : files[i], &stats, &error);
    if (!ok) {
      err << "mxscreen: " << error << "\n";
      close_all();
      return 1;
    }
  }
  close_all();
  StatsReport report = stats.Report(options.top);
  out << (options.json ? FormatStatsJson(report) : FormatStatsText(report));
  out.flush();
  return out ? 0 : 1;
}

}  // namespace mxs
