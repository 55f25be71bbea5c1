// stats_cli: `mxscreen stats [--json] [--top N] [--program NAME] [LOGFILE...]`:
// reads postscreen or mxscreen logs (files, or stdin for none or "-"; plain
// or gzip-compressed, core/log_reader.h), feeds their lines to LogStats
// (core/log_stats.h) and prints the report. The only I/O of the stats
// feature lives here.
//
// Exit codes as everywhere: 0 success, 1 a file that cannot be opened or
// read to its end, damaged gzip data included (the message names it; no
// report is printed then), 2 bad usage (CLI11 in core/main.cc).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace mxs {

struct StatsCliOptions {
  std::vector<std::string> files;     // empty or "-": stdin
  std::vector<std::string> programs;  // --program; empty: any */postscreen, */dnsblog
  bool json = false;
  size_t top = 10;   // 0: every client and network with a rejection or failure
  int stdin_fd = 0;  // tests read from a pipe of their own
};

// Runs the command: the report on `out`, errors on `err`; returns the exit code.
int RunStatsCommand(const StatsCliOptions& options, std::ostream& out, std::ostream& err);

}  // namespace mxs
