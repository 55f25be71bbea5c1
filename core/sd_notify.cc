// sd_notify: one datagram per state change.
#include "core/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace mxs {

std::string SdNotify(const std::string& state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || path[0] == '\0') return "";
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  size_t len = std::strlen(path);
  if ((path[0] != '/' && path[0] != '@') || len >= sizeof sa.sun_path) {
    return std::string("unusable NOTIFY_SOCKET ") + path;
  }
  std::memcpy(sa.sun_path, path, len);
  // "@name": Linux's abstract namespace, where the name starts with a NUL.
  if (path[0] == '@') sa.sun_path[0] = '\0';
  socklen_t sa_len =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len + (path[0] == '@' ? 0 : 1));
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("notify socket: ") + std::strerror(errno);
  ssize_t n = sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&sa),
                     sa_len);
  std::string err = n < 0 ? std::string("notify ") + path + ": " + std::strerror(errno) : "";
  close(fd);
  return err;
}

}  // namespace mxs
