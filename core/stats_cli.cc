// stats_cli: the `mxscreen stats` command: opens the files, hands each to
// ReadLog (core/log_reader.h: plain or gzip, bounded memory) and prints the
// report only when every file was read to its end.
#include "core/stats_cli.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "core/log_reader.h"
#include "core/log_stats.h"

namespace mxs {
namespace {

// A LogSource over a file descriptor: read(2), retried on EINTR.
LogSource FdSource(int fd) {
  return [fd](char* buf, size_t cap, std::string* error) -> long {
    for (;;) {
      ssize_t n = read(fd, buf, cap);
      if (n >= 0) return static_cast<long>(n);
      if (errno == EINTR) continue;
      *error = std::strerror(errno);
      return -1;
    }
  };
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
    // A file that cannot be read to its end (a read error, damaged gzip
    // data) fails the command: a report that silently left out the rest of
    // a file would be wrong, and nothing says how wrong.
    LogReadResult read = ReadLog(FdSource(fds[i]), files[i] == "-" ? "stdin" : files[i], &stats);
    if (!read.ok) {
      err << "mxscreen: " << read.error << "\n";
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
