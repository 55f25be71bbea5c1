// verdict_cli: `mxscreen verdict get|delete|import`: the operator's view of a
// listener's verdict store, and the import of an existing postscreen cache
// (a `postmap -s` dump) so that a cut-over from postscreen does not retest
// every sender it already knows. Works on the store of a stopped gateway:
// RocksDB allows one process per store, and a running gateway holds it.
//
// Exit codes as everywhere: 0 success, 1 runtime failure (no such record,
// store in use or failing, bad lines in an import), 2 bad usage or config.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "core/ip_address.h"
#include "core/verdict_store.h"

namespace mxs {

struct VerdictCliOptions {
  std::string command;       // "get", "delete" or "import"
  std::string address;       // get, delete: the client address
  std::string from_postmap;  // import: the `postmap -s` dump ("-" = stdin)
  std::string config_path = "/etc/mxscreen/mxscreen.yaml";
  std::string listener;  // whose store; empty: the first listener's
  // Tests: seconds since the epoch; default time().
  std::function<int64_t()> clock;
};

// Runs one command: results on `out`, errors on `err`; returns the exit code.
int RunVerdictCommand(const VerdictCliOptions& options, std::ostream& out, std::ostream& err);

// One entry of postscreen's cache as `postmap -s` prints it:
// "ADDR<tab>pregreet;dnsbl;pipelining;non_smtp;bare_newline" (expiry times;
// 0 never passed and 1 test disabled are both left out of the record).
struct PostmapCacheEntry {
  IpAddress address;
  VerdictRecord record;
};
enum class PostmapLine { kEntry, kIgnored, kBad };
// kIgnored: a blank line or postscreen's own cleanup time stamp entry.
// kBad: *error says why.
PostmapLine ParsePostmapCacheLine(std::string_view line, PostmapCacheEntry* entry,
                                  std::string* error);

}  // namespace mxs
