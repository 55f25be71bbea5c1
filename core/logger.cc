// logger: line formatting and the three sinks.
#include "core/logger.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace mxs {
namespace {

std::shared_ptr<Logger>& GlobalSlot() {
  static std::shared_ptr<Logger>* slot = new std::shared_ptr<Logger>;
  return *slot;
}

// "Nov 02 01:35:39" as Postfix's maillog_file writes it (zero-padded day), or
// "Nov  2 01:35:39" as RFC 3164 syslog wants it; formatted once a second per
// thread.
const char* Timestamp(bool syslog) {
  thread_local time_t cached_second = 0;
  thread_local char cached[2][32];
  time_t now = time(nullptr);
  if (now != cached_second) {
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(cached[0], sizeof cached[0], "%b %d %H:%M:%S", &tm);
    strftime(cached[1], sizeof cached[1], "%b %e %H:%M:%S", &tm);
    cached_second = now;
  }
  return cached[syslog ? 1 : 0];
}

}  // namespace

Logger::Logger(const LoggingConfig& config, std::string hostname)
    : config_(config), hostname_(std::move(hostname)), pid_(getpid()) {
  using S = config::v1::Logging;
  if (config_.sink == S::FILE) {
    int fd = open(config_.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
      throw std::runtime_error("cannot open log file " + config_.path + ": " + strerror(errno));
    }
    fd_ = fd;
  } else if (config_.sink == S::SYSLOG) {
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (config_.syslog_socket.size() >= sizeof sa.sun_path) {
      throw std::runtime_error("syslog socket path too long: " + config_.syslog_socket);
    }
    std::strcpy(sa.sun_path, config_.syslog_socket.c_str());
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      std::string why = strerror(errno);
      if (fd >= 0) close(fd);
      throw std::runtime_error("cannot connect to syslog socket " + config_.syslog_socket + ": " +
                               why);
    }
    fd_ = fd;
  } else {
    fd_ = 2;
  }
}

Logger::~Logger() {
  int fd = fd_.load();
  if (fd > 2) close(fd);
}

void Logger::Write(std::string_view program, std::string_view message) {
  char buf[2048];
  int n;
  int msg_len = static_cast<int>(std::min<size_t>(message.size(), 1900));
  int prog_len = static_cast<int>(std::min<size_t>(program.size(), 64));
  if (config_.sink == config::v1::Logging::SYSLOG) {
    // RFC 3164: the syslog daemon adds the host name itself.
    n = std::snprintf(buf, sizeof buf, "<%d>%s %.*s[%d]: %.*s", config_.syslog_facility | 6,
                      Timestamp(true), prog_len, program.data(), pid_, msg_len, message.data());
  } else {
    n = std::snprintf(buf, sizeof buf, "%s %s %.*s[%d]: %.*s\n", Timestamp(false),
                      hostname_.c_str(), prog_len, program.data(), pid_, msg_len, message.data());
  }
  if (n < 0) return;
  Emit(buf, std::min<size_t>(n, sizeof buf - 1));
}

void Logger::VLogf(std::string_view program, const char* fmt, va_list ap) {
  char msg[1900];
  int n = std::vsnprintf(msg, sizeof msg, fmt, ap);
  if (n < 0) return;
  Write(program, std::string_view(msg, std::min<size_t>(n, sizeof msg - 1)));
}

void Logger::Logf(std::string_view program, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  VLogf(program, fmt, ap);
  va_end(ap);
}

void Logger::Emit(const char* data, size_t len) {
  int fd = fd_.load(std::memory_order_acquire);
  // A short or failed write loses one log line; logging must never stall or
  // stop screening, so there is nothing better to do here.
  ssize_t rc = write(fd, data, len);
  (void)rc;
}

void Logger::Reopen() {
  if (config_.sink != config::v1::Logging::FILE) return;
  int err = 0;
  {
    std::lock_guard<std::mutex> lock(reopen_mu_);
    int fd = open(config_.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
      err = errno;  // keep writing to the old file rather than nowhere
    } else {
      // dup3 swaps the file behind our descriptor atomically; a write already
      // in progress finishes on the old file, which the kernel keeps open
      // until then.
      dup3(fd, fd_.load(), O_CLOEXEC);
      close(fd);
    }
  }
  // The first line of the new file says why it begins here; a failure goes
  // to the old file, where the operator who rotated it will look.
  if (err != 0) {
    Logf("mxscreen", "warning: cannot reopen log file %s: %s; still writing to the old file",
         config_.path.c_str(), strerror(err));
  } else {
    Logf("mxscreen", "reopened log file %s", config_.path.c_str());
  }
}

Logger& Logger::Global() {
  auto& slot = GlobalSlot();
  if (!slot) {
    LoggingConfig def;
    slot = std::make_shared<Logger>(def, "localhost");
  }
  return *slot;
}

void Logger::SetGlobal(std::shared_ptr<Logger> logger) { GlobalSlot() = std::move(logger); }

}  // namespace mxs
