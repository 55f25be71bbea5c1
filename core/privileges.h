// privileges: running as a dedicated user. The gateway starts as root to
// bind port 25 and open its files, then switches, for every thread of the
// process, to Bootstrap.user and its primary group (no supplementary
// groups), as Postfix's daemons do with mail_owner. A gateway that cannot
// switch refuses to go on as root.
#pragma once

#include <sys/types.h>

#include <string>

namespace mxs {

struct RunAsUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// Looks the user up in the password database. Throws std::runtime_error
// ("no such user ...") when it does not exist.
RunAsUser LookUpUser(const std::string& name);

// Makes `dir` (a verdict store directory) ready for `user`: creates it, owned
// by the user and mode 0750, when it does not exist yet. An existing
// directory is left as it is (CheckWritable says whether it will do).
// Throws std::runtime_error with the reason.
void PrepareStoreDirectory(const std::string& dir, const RunAsUser& user);

// Switches the whole process (glibc applies set*id to every thread) to the
// user: setgroups to its primary group only, setgid, setuid; then checks that
// root cannot be regained. Returns "" or the reason it failed; the caller
// must then stop, since some threads may already have switched.
std::string DropPrivileges(const RunAsUser& user);

// "" when the current user can create files in `dir`, else the reason
// ("... is not writable by user mxscreen").
std::string CheckWritable(const std::string& dir, const std::string& user_name);

}  // namespace mxs
