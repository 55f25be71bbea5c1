// verdict_cache: decoded verdict records of recently seen clients, held in
// memory in front of the RocksDB store (core/verdict_store.cc). Every
// connection looks its client up at connect; RocksDB's own Get costs 2-8 us
// even from its caches, a lookup here about a tenth of that. RocksDB stays
// the durable copy: the cache holds only what RocksDB returned or committed.
//
// Records are kept compact (about 140 bytes of resident memory each, with the hash table's own
// overhead): filter names are interned to small ids and expiries kept as
// 32-bit seconds. A record that does not fit that form (more than
// kMaxPasses passes, an expiry outside 1970..2106, too many distinct filter
// names seen) is simply not cached. Eviction, when a shard is full, drops
// the least recently used of a few sampled entries (approximate LRU, no
// per-entry list).
//
// Staleness: a reader that fetched a record from RocksDB may insert it only
// if no write happened since it read (the write epoch, see Fill); writers
// replace or erase entries after their RocksDB write.
#pragma once
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/ip_address.h"
#include "core/verdict_store.h"

namespace mxs {

class VerdictCache {
 public:
  static constexpr size_t kMaxPasses = 7;
  static constexpr size_t kMaxNames = 4096;

  // capacity 0: a cache that holds nothing (every call is a cheap no-op).
  explicit VerdictCache(size_t capacity);
  VerdictCache(const VerdictCache&) = delete;
  VerdictCache& operator=(const VerdictCache&) = delete;

  // The cached record; nullopt when the client is not cached.
  std::optional<VerdictRecord> Get(const IpAddress& client);

  // Writers, after their RocksDB write succeeded: bump the epoch first, then
  // set or erase (see the header comment).
  void BeginWrite() { epoch_.fetch_add(1, std::memory_order_acq_rel); }
  void Put(const IpAddress& client, const VerdictRecord& record);
  void Erase(const IpAddress& client);

  // Readers: take the epoch before reading RocksDB, then Fill with it. The
  // record is inserted only when no write happened in between and the client
  // is not cached already; returns false when the epoch moved (the caller
  // may read again).
  uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }
  bool Fill(const IpAddress& client, const VerdictRecord& record, uint64_t epoch);

  // Drops the records whose latest pass expired before `drop_before`: what a
  // store compaction drops from RocksDB (run right after it), so a record
  // past retention is gone from both at the same time.
  void EraseExpired(int64_t drop_before);

  bool full() const { return size_.load(std::memory_order_relaxed) >= capacity_; }
  size_t size() const { return size_.load(std::memory_order_relaxed); }
  size_t capacity() const { return capacity_; }

 private:
  struct Key {
    uint64_t hi, lo;
    uint8_t family;
    bool operator==(const Key& o) const { return hi == o.hi && lo == o.lo && family == o.family; }
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Entry {
    uint32_t last_used;
    uint8_t count;
    std::array<uint16_t, kMaxPasses> filter;
    std::array<uint32_t, kMaxPasses> expiry;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<Key, Entry, KeyHash> map;
    uint32_t clock = 0;  // ticks per use, for last_used
    uint64_t rng = 0x9e3779b97f4a7c15ull;
  };
  static constexpr size_t kShards = 64;

  static Key MakeKey(const IpAddress& client);
  Shard& ShardOf(const Key& key) { return shards_[KeyHash()(key) % kShards]; }
  // Fills `entry` from `record`; false when the record cannot be cached.
  bool Compact(const VerdictRecord& record, Entry* entry);
  // Stores entry under the shard lock, evicting one when the shard is full.
  void StoreLocked(Shard& shard, const Key& key, const Entry& entry);
  // The id of `name`, interning it; -1 when the name table is full.
  int NameId(const std::string& name);

  const size_t capacity_;
  const size_t shard_capacity_;
  std::atomic<uint64_t> epoch_{0};
  std::atomic<size_t> size_{0};
  std::unique_ptr<Shard[]> shards_;

  // Interned filter names. `names_` is reserved to kMaxNames up front so it
  // never reallocates: Get reads a name without names_mu_, its id having
  // reached it through a shard lock taken after the name was added.
  std::mutex names_mu_;
  std::unordered_map<std::string, uint16_t> name_ids_;
  std::vector<std::string> names_;
};

}  // namespace mxs
