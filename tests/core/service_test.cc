// Tests of the service pieces below the integration tests: the `user` and
// `drain_time` fields, that a control plane cannot change them, the
// readiness datagram (to a path and to an abstract socket), and the user
// lookup and store-directory helpers. The privilege switch itself is tested
// for real in tests/integration/test_service.py (it changes the process).
#include <gtest/gtest.h>

#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <algorithm>

#include <cstdlib>
#include <cstring>
#include <string>

#include "core/config_error.h"
#include "core/control_client.h"
#include "core/gateway_config.h"
#include "core/privileges.h"
#include "core/proto_yaml.h"
#include "core/sd_notify.h"

namespace mxs {
namespace {

const char* kListener = R"(
listeners:
  - address: 127.0.0.1:2525
    handoff: { backends: ["127.0.0.1:10025"] }
)";

std::shared_ptr<const GatewayConfig> Build(const std::string& top) {
  config::v1::Bootstrap b;
  ParseConfigText(top + kListener, &b, nullptr);
  return BuildGatewayConfig(b, ".");
}

std::string ErrorOf(const std::string& top) {
  try {
    Build(top);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(ServiceConfig, UserAndDrainTime) {
  auto c = Build("");
  EXPECT_EQ(c->user, "");
  EXPECT_EQ(c->drain_time, Seconds(30));
  c = Build("user: mxscreen\ndrain_time: 2m\n");
  EXPECT_EQ(c->user, "mxscreen");
  EXPECT_EQ(c->drain_time, Seconds(120));
  EXPECT_EQ(Build("drain_time: \"0\"\n")->drain_time, Seconds(0));
  EXPECT_EQ(ErrorOf("drain_time: soon\n"),
            "drain_time: bad time value \"soon\" (a number with an optional unit s, m, h, d or "
            "w)");
  EXPECT_EQ(ErrorOf("user: \"mail owner\"\n"), "user: \"mail owner\" is not a user name");
  EXPECT_EQ(ErrorOf("user: ../root\n"), "user: \"../root\" is not a user name");
}

TEST(ServiceConfig, APushCannotChangeUserOrDrainTime) {
  config::v1::Bootstrap local, pushed;
  local.set_user("mxscreen");
  local.set_drain_time("45s");
  pushed.set_user("root");
  pushed.set_drain_time("0");
  auto merged = MergePushedConfig(local, pushed);
  EXPECT_EQ(merged.user(), "mxscreen");
  EXPECT_EQ(merged.drain_time(), "45s");
}

// A datagram socket of the test's own, as systemd would hold it.
class NotifySocket {
 public:
  explicit NotifySocket(bool abstract) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::string name = "mxs-notify-" + std::to_string(getpid());
    socklen_t len;
    if (abstract) {
      env_ = "@" + name;
      std::memcpy(sa.sun_path + 1, name.data(), name.size());
      len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    } else {
      // Not under TempDir(): Bazel's TEST_TMPDIR is longer than sun_path.
      env_ = "/tmp/" + name;
      unlink(env_.c_str());
      std::memcpy(sa.sun_path, env_.data(), std::min(env_.size(), sizeof sa.sun_path - 1));
      len = sizeof sa;
    }
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&sa), len), 0) << strerror(errno);
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setenv("NOTIFY_SOCKET", env_.c_str(), 1);
  }
  ~NotifySocket() {
    unsetenv("NOTIFY_SOCKET");
    close(fd_);
    if (env_[0] == '/') unlink(env_.c_str());
  }
  std::string Receive() {
    char buf[512];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    return n < 0 ? "(nothing)" : std::string(buf, n);
  }

 private:
  int fd_;
  std::string env_;
};

TEST(SdNotify, NothingToDoWithoutTheVariable) {
  unsetenv("NOTIFY_SOCKET");
  EXPECT_EQ(SdNotify("READY=1"), "");
}

TEST(SdNotify, ToASocketPath) {
  NotifySocket rx(false);
  EXPECT_EQ(SdNotify("READY=1\nSTATUS=serving"), "");
  EXPECT_EQ(rx.Receive(), "READY=1\nSTATUS=serving");
}

TEST(SdNotify, ToAnAbstractSocket) {
  NotifySocket rx(true);
  EXPECT_EQ(SdNotify("STOPPING=1"), "");
  EXPECT_EQ(rx.Receive(), "STOPPING=1");
}

TEST(SdNotify, BadValuesAreReported) {
  setenv("NOTIFY_SOCKET", "relative/path", 1);
  EXPECT_EQ(SdNotify("READY=1"), "unusable NOTIFY_SOCKET relative/path");
  std::string gone = "/tmp/mxs-no-such-socket-" + std::to_string(getpid());
  setenv("NOTIFY_SOCKET", gone.c_str(), 1);
  EXPECT_EQ(SdNotify("READY=1"), "notify " + gone + ": No such file or directory");
  unsetenv("NOTIFY_SOCKET");
}

TEST(Privileges, LookUpUser) {
  auto root = LookUpUser("root");
  EXPECT_EQ(root.name, "root");
  EXPECT_EQ(root.uid, 0u);
  EXPECT_EQ(root.gid, 0u);
  try {
    LookUpUser("no-such-user-mxs");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "no such user: no-such-user-mxs");
  }
}

TEST(Privileges, StoreDirectoryIsCreatedForTheUserOnly) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (chown)";
  passwd* nobody = getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  RunAsUser user{"nobody", nobody->pw_uid, nobody->pw_gid};
  std::string dir = ::testing::TempDir() + "/mxs-store-" + std::to_string(getpid());
  rmdir(dir.c_str());
  PrepareStoreDirectory(dir, user);
  struct stat st;
  ASSERT_EQ(stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, nobody->pw_uid);
  EXPECT_EQ(st.st_gid, nobody->pw_gid);
  EXPECT_EQ(st.st_mode & 0777, 0750u);
  // An existing directory is left alone.
  ASSERT_EQ(chown(dir.c_str(), 0, 0), 0);
  PrepareStoreDirectory(dir, user);
  ASSERT_EQ(stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  rmdir(dir.c_str());
  // A missing parent is an error, not created.
  try {
    PrepareStoreDirectory(dir + "/a/b", user);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot create store directory " + dir + "/a/b: No such file or directory");
  }
}

TEST(Privileges, CheckWritable) {
  EXPECT_EQ(CheckWritable(::testing::TempDir(), "me"), "");
  EXPECT_EQ(CheckWritable("/nonexistent-mxs", "mxscreen"),
            "/nonexistent-mxs is not writable by user mxscreen (No such file or directory): "
            "make the user its owner, e.g. chown mxscreen: /nonexistent-mxs");
}

}  // namespace
}  // namespace mxs
