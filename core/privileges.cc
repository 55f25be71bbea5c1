// privileges: user lookup, the store directory, and the switch itself.
#include "core/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace mxs {

RunAsUser LookUpUser(const std::string& name) {
  long size = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(size > 0 ? static_cast<size_t>(size) : 16384);
  passwd pw{};
  passwd* found = nullptr;
  int rc = getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
  if (rc != 0) {
    throw std::runtime_error("cannot look up user " + name + ": " + std::strerror(rc));
  }
  if (!found) throw std::runtime_error("no such user: " + name);
  return RunAsUser{name, pw.pw_uid, pw.pw_gid};
}

void PrepareStoreDirectory(const std::string& dir, const RunAsUser& user) {
  struct stat st;
  if (stat(dir.c_str(), &st) == 0) return;
  if (errno != ENOENT) {
    throw std::runtime_error("cannot check store directory " + dir + ": " + std::strerror(errno));
  }
  // Only the last component is created: a missing parent is a typo more
  // often than an intent, and RocksDB would not create it either.
  if (mkdir(dir.c_str(), 0750) != 0) {
    throw std::runtime_error("cannot create store directory " + dir + ": " + std::strerror(errno));
  }
  if (chown(dir.c_str(), user.uid, user.gid) != 0) {
    throw std::runtime_error("cannot give store directory " + dir + " to user " + user.name + ": " +
                             std::strerror(errno));
  }
}

std::string DropPrivileges(const RunAsUser& user) {
  auto failed = [&](const char* step) {
    return std::string(step) + " for user " + user.name + " failed: " + std::strerror(errno);
  };
  // setgroups first: once setuid has run, changing groups is no longer allowed.
  if (setgroups(1, &user.gid) != 0) return failed("setgroups");
  if (setgid(user.gid) != 0) return failed("setgid");
  if (setuid(user.uid) != 0) return failed("setuid");
  if (getuid() != user.uid || geteuid() != user.uid || getgid() != user.gid ||
      getegid() != user.gid) {
    return "the switch to user " + user.name + " did not take effect";
  }
  // A switch that left a saved set-user-ID of root could be undone.
  if (user.uid != 0 && setuid(0) == 0) {
    return "root privileges could be regained after switching to user " + user.name;
  }
  return "";
}

std::string CheckWritable(const std::string& dir, const std::string& user_name) {
  if (access(dir.c_str(), W_OK | X_OK) == 0) return "";
  return dir + " is not writable by user " + user_name + " (" + std::strerror(errno) +
         "): make the user its owner, e.g. chown " + user_name + ": " + dir;
}

}  // namespace mxs
