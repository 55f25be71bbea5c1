// Tests of the admin server's transport (core/admin_server.h) over a real
// loopback socket: a request and its exact response head, keep-alive, a
// malformed request, a token swapped in by Update on a live server, and a
// port in use.
#include "core/admin_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include "core/logger.h"

namespace mxs {
namespace {

class NullBackend : public AdminBackend {
 public:
  std::string NotReadyReason() override { return ""; }
  std::string ConfigDumpJson() override { return "{}\n"; }
  std::shared_ptr<VerdictStore> StoreOf(const std::string&, std::string*,
                                        std::string* error) override {
    *error = "no store";
    return nullptr;
  }
};

// A blocking client: sends `request` and reads until the server closes or
// `responses` complete responses (by Content-Length) arrived.
std::string Exchange(uint16_t port, const std::string& request, int responses = 1) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    close(fd);
    return "connect failed";
  }
  (void)!write(fd, request.data(), request.size());
  std::string got;
  char buf[4096];
  for (;;) {
    // Count complete responses so far.
    int done = 0;
    size_t pos = 0;
    for (;;) {
      size_t head = got.find("\r\n\r\n", pos);
      if (head == std::string::npos) break;
      size_t cl = got.find("Content-Length: ", pos);
      if (cl == std::string::npos || cl > head) break;
      size_t len = std::stoul(got.substr(cl + 16));
      if (got.size() < head + 4 + len) break;
      pos = head + 4 + len;
      ++done;
    }
    if (done >= responses) break;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return got;
}

AdminConfig LoopbackConfig() {
  AdminConfig c;
  c.address = {*IpAddress::Parse("127.0.0.1"), 0};
  return c;
}

TEST(AdminServer, ServesHealthzWithExactHead) {
  NullBackend backend;
  AdminServer server(LoopbackConfig(), backend, Logger::Global());
  ASSERT_NE(server.port(), 0);
  std::string got = Exchange(server.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(got,
            "HTTP/1.1 200 OK\r\n"
            "Server: mxscreen\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 3\r\n"
            "\r\n"
            "ok\n");
}

TEST(AdminServer, KeepAliveServesSeveralRequests) {
  NullBackend backend;
  AdminServer server(LoopbackConfig(), backend, Logger::Global());
  std::string got = Exchange(server.port(),
                             "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                             "GET /config_dump HTTP/1.1\r\nHost: x\r\n\r\n",
                             2);
  EXPECT_NE(got.find("ok\n"), std::string::npos) << got;
  EXPECT_NE(got.find("Content-Type: application/json\r\nContent-Length: 3\r\n\r\n{}\n"),
            std::string::npos)
      << got;
}

TEST(AdminServer, MalformedRequestGets400) {
  NullBackend backend;
  AdminServer server(LoopbackConfig(), backend, Logger::Global());
  std::string got = Exchange(server.port(), "GET /x HTTP/1.1\r\nBad Header\r\n\r\n");
  EXPECT_EQ(got.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << got;
  std::string huge = "GET /x HTTP/1.1\r\nX-Long: " + std::string(10000, 'a') + "\r\n\r\n";
  got = Exchange(server.port(), huge);
  EXPECT_EQ(got.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << got;
}

TEST(AdminServer, UpdateSwapsTheTokenOnTheSameSocket) {
  NullBackend backend;
  AdminServer server(LoopbackConfig(), backend, Logger::Global());
  const std::string req = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_EQ(Exchange(server.port(), req).rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  AdminConfig c = server.config();
  c.bearer_token = "tok";
  server.Update(c);
  std::string got = Exchange(server.port(), req);
  EXPECT_EQ(got.rfind("HTTP/1.1 401 Unauthorized\r\n", 0), 0u) << got;
  EXPECT_NE(got.find("WWW-Authenticate: Bearer realm=\"mxscreen\"\r\n"), std::string::npos);
  got = Exchange(server.port(),
                 "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\n\r\n");
  EXPECT_EQ(got.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << got;
}

TEST(AdminServer, PortInUseIsAnError) {
  NullBackend backend;
  AdminServer first(LoopbackConfig(), backend, Logger::Global());
  AdminConfig c = LoopbackConfig();
  c.address.port = first.port();
  try {
    AdminServer second(c, backend, Logger::Global());
    FAIL() << "bound twice";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "admin server: cannot listen on [127.0.0.1]:" +
                                         std::to_string(first.port()) + ": Address already in use");
  }
}

}  // namespace
}  // namespace mxs
