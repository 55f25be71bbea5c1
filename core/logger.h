// logger: writes log lines in Postfix's formats, so existing log tools
// (pflogsumm, Postscreen-Stats) read them unchanged: to a file in the layout
// of Postfix's maillog_file, to stderr in the same layout, or as datagrams to
// a syslog socket. Each line goes out in one write(2), so lines from several
// workers never interleave; no lock is held on the hot path.
#pragma once

#include <atomic>
#include <cstdarg>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/gateway_config.h"

namespace mxs {

class Logger {
 public:
  // Opens the sink. Throws std::runtime_error with the reason.
  Logger(const LoggingConfig& config, std::string hostname);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // One line: "Mon dd hh:mm:ss host program[pid]: message".
  void Write(std::string_view program, std::string_view message);
  void Logf(std::string_view program, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
  void VLogf(std::string_view program, const char* fmt, va_list ap);
  // Reopens a log file (logrotate, SIGUSR1) and logs that it did, or why it
  // could not (then the old file stays in use); a no-op for other sinks.
  void Reopen();

  // The process-wide logger used for messages that belong to no session.
  static Logger& Global();
  static void SetGlobal(std::shared_ptr<Logger> logger);

 private:
  void Emit(const char* data, size_t len);

  LoggingConfig config_;
  std::string hostname_;
  std::atomic<int> fd_{-1};
  std::mutex reopen_mu_;
  int pid_;
};

}  // namespace mxs
