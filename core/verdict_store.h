// verdict_store: what the gateway remembers about clients that passed tests
// (postscreen's cache): per client address, per filter name, the time its
// pass expires. Not a fixed set of tests: plugin filters are cached the same
// way. The store is a cache: a store that fails while running degrades to
// "nothing cached" (rate-limited error log) and recovers by itself; only a
// store that cannot be opened at start is an error.
//
// The implementation (verdict_store.cc) is an embedded RocksDB; this header
// names no RocksDB type beyond a forward declaration for the test hook, so
// session code that includes it stays cheap to compile.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/duration.h"
#include "core/ip_address.h"

namespace rocksdb {
class Env;
}

namespace mxs {

class Logger;

// One client's passes: filter name -> expiry (seconds since the epoch).
struct VerdictRecord {
  std::vector<std::pair<std::string, int64_t>> passes;
  // The expiry of `filter`'s pass, or 0 when it never passed.
  int64_t ExpiryOf(std::string_view filter) const;
  // Sets (replaces) `filter`'s expiry.
  void Set(std::string_view filter, int64_t expiry);
  // Sets every pass of `other` here (what Update does to a stored record).
  void Merge(const VerdictRecord& other);
  // The latest expiry of any pass (what retention is measured from); 0 if none.
  int64_t LatestExpiry() const;
  bool operator==(const VerdictRecord& o) const { return passes == o.passes; }
};

// The stored form of a record (api/mxscreen/store/v1/verdict.proto).
std::string EncodeVerdictRecord(const VerdictRecord& record);
// nullopt when `bytes` is not a record. Never crashes on garbage (fuzzed).
std::optional<VerdictRecord> DecodeVerdictRecord(std::string_view bytes);

struct VerdictStoreOptions {
  std::string path;
  // A record is dropped once its latest pass expired longer ago than this.
  Seconds retention_time{7 * 86400};
  // How often the background thread compacts the whole store (which is when
  // expired records go); 0 disables the periodic compaction.
  Seconds cleanup_interval{12 * 3600};
  // false: a missing store is an error (the CLI must not create one by typo).
  bool create_if_missing = true;
  // How many decoded records are kept in memory in front of RocksDB
  // (core/verdict_cache.h; about 140 bytes each); 0: none.
  size_t memory_records = 1000000;
  // Fill that memory from the store after opening (in the background); a
  // short-lived command has no use for it.
  bool preload = true;
  // Tests: the clock (seconds since the epoch) used for retention and for
  // rate-limiting error logs. Called from RocksDB's threads too. Default: time().
  std::function<int64_t()> clock;
  // Tests: a RocksDB environment to run on (fault injection). Not owned; must
  // outlive the store. nullptr: the default environment.
  rocksdb::Env* env = nullptr;
};

class VerdictStore {
 public:
  virtual ~VerdictStore() = default;
  // The client's record; nullopt when there is none or the store failed.
  virtual std::optional<VerdictRecord> Lookup(const IpAddress& client) = 0;
  // Merges `passes` into the client's record (each filter's expiry replaced).
  // Never throws; a failure is logged and counted.
  virtual void Update(const IpAddress& client, const VerdictRecord& passes) = 0;
  // Removes the client's record; false when there was none (or on failure).
  virtual bool Delete(const IpAddress& client) = 0;
  // Errors seen while running (for metrics and tests).
  virtual uint64_t error_count() const = 0;
  // Records held decoded in memory (VerdictStoreOptions::memory_records).
  virtual size_t cached_records() const = 0;
  // Records in the store (expired ones not yet compacted away included),
  // counted by a scan that skips RocksDB's block cache. For the admin
  // thread's scrapes: a new count only after a write, and no more often than
  // a hundred times the last count's duration (at most every 30 s), so
  // counting costs at most about 1% of a core. The last count while closed.
  virtual uint64_t CountRecords() = 0;
  // Why the store is not fully working right now, "" when it is: a reopen
  // under way, writes suspended after a failed write, reads failing. The
  // gateway screens on (as if nothing were cached); /ready reports it.
  virtual std::string Degraded() const = 0;
  // Runs the cleanup now (what the background thread does every
  // cleanup_interval): drops records past retention. For tests and tools.
  virtual void CompactNow() = 0;
};

// Opens (creating unless told not to) the RocksDB store. Throws
// std::runtime_error "verdict store PATH: REASON" (another process holding
// the store says so: "is the gateway running?"). Runtime errors are logged
// through `logger` (nullptr: Logger::Global()).
std::shared_ptr<VerdictStore> OpenVerdictStore(const VerdictStoreOptions& options, Logger* logger);

// A pass expiry (Unix seconds) as "2026-12-06T19:39:42Z", as the verdict
// CLI and the admin API show it.
std::string FormatUtc(int64_t t);

}  // namespace mxs
