// verdict_cache: see verdict_cache.h.
#include "core/verdict_cache.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace mxs {

namespace {
// How many entries an eviction compares (Redis-style sampled LRU: with 5,
// the evicted entry is in the oldest fifth or so).
constexpr int kEvictionSamples = 5;

uint64_t SplitMix(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
}  // namespace

size_t VerdictCache::KeyHash::operator()(const Key& k) const {
  uint64_t h = k.hi * 0x9e3779b97f4a7c15ull ^ (k.lo + k.family) * 0xc2b2ae3d27d4eb4full;
  return static_cast<size_t>(h ^ (h >> 29));
}

VerdictCache::VerdictCache(size_t capacity)
    // Shards fill unevenly (hashing): each may hold an eighth more than its
    // share, while the total stays within the capacity.
    : capacity_(capacity), shard_capacity_((capacity + kShards - 1) / kShards * 9 / 8 + 1) {
  if (capacity_ == 0) return;
  shards_ = std::make_unique<Shard[]>(kShards);
  for (size_t i = 0; i < kShards; ++i) shards_[i].rng += i;
  names_.reserve(kMaxNames);
}

VerdictCache::Key VerdictCache::MakeKey(const IpAddress& client) {
  Key k{0, 0, client.is_v4() ? uint8_t{4} : uint8_t{6}};
  uint8_t b[16] = {};
  std::memcpy(b, client.bytes().data(), client.is_v4() ? 4 : 16);
  std::memcpy(&k.hi, b, 8);
  std::memcpy(&k.lo, b + 8, 8);
  return k;
}

int VerdictCache::NameId(const std::string& name) {
  std::lock_guard<std::mutex> lock(names_mu_);
  auto it = name_ids_.find(name);
  if (it != name_ids_.end()) return it->second;
  if (names_.size() >= kMaxNames) return -1;
  names_.push_back(name);
  uint16_t id = static_cast<uint16_t>(names_.size() - 1);
  name_ids_.emplace(name, id);
  return id;
}

bool VerdictCache::Compact(const VerdictRecord& record, Entry* entry) {
  if (record.passes.size() > kMaxPasses) return false;
  entry->count = static_cast<uint8_t>(record.passes.size());
  for (size_t i = 0; i < record.passes.size(); ++i) {
    const auto& [name, expiry] = record.passes[i];
    if (expiry < 0 || expiry > std::numeric_limits<uint32_t>::max()) return false;
    int id = NameId(name);
    if (id < 0) return false;
    entry->filter[i] = static_cast<uint16_t>(id);
    entry->expiry[i] = static_cast<uint32_t>(expiry);
  }
  return true;
}

std::optional<VerdictRecord> VerdictCache::Get(const IpAddress& client) {
  if (capacity_ == 0) return std::nullopt;
  Key key = MakeKey(client);
  Shard& shard = ShardOf(key);
  VerdictRecord out;
  {
    std::lock_guard<std::mutex> lock(shard.mu);
    auto it = shard.map.find(key);
    if (it == shard.map.end()) return std::nullopt;
    Entry& e = it->second;
    e.last_used = ++shard.clock;
    out.passes.reserve(e.count);
    for (size_t i = 0; i < e.count; ++i) {
      out.passes.emplace_back(names_[e.filter[i]], static_cast<int64_t>(e.expiry[i]));
    }
  }
  return out;
}

void VerdictCache::StoreLocked(Shard& shard, const Key& key, const Entry& entry) {
  auto it = shard.map.find(key);
  if (it != shard.map.end()) {
    it->second = entry;
    return;
  }
  // A new entry takes a slot of the total first (other shards fill at the
  // same time under their own locks), or replaces one of this shard's.
  bool over = shard.map.size() >= shard_capacity_;
  if (!over && size_.fetch_add(1, std::memory_order_relaxed) >= capacity_) {
    size_.fetch_sub(1, std::memory_order_relaxed);
    over = true;
  }
  // Full everywhere else and nothing here to evict: not cached (the key is
  // not in this shard, so nothing older is left behind).
  if (over && shard.map.empty()) return;
  if (over) {
    // Sample entries from random buckets; evict the least recently used.
    auto victim = shard.map.end();
    const size_t buckets = shard.map.bucket_count();
    for (int s = 0, tries = 0; s < kEvictionSamples && tries < 4 * kEvictionSamples; ++tries) {
      size_t b = SplitMix(&shard.rng) % buckets;
      if (shard.map.bucket_size(b) == 0) continue;
      auto candidate = shard.map.find(shard.map.begin(b)->first);
      // Ages compare modulo 2^32, so a wrapped clock still orders recent ones.
      if (victim == shard.map.end() ||
          static_cast<int32_t>(candidate->second.last_used - victim->second.last_used) < 0) {
        victim = candidate;
      }
      ++s;
    }
    if (victim == shard.map.end()) victim = shard.map.begin();
    shard.map.erase(victim);  // its slot goes to the new entry
  }
  Entry stored = entry;
  stored.last_used = ++shard.clock;
  shard.map.emplace(key, stored);
}

void VerdictCache::Put(const IpAddress& client, const VerdictRecord& record) {
  if (capacity_ == 0) return;
  Key key = MakeKey(client);
  Entry entry;
  if (!Compact(record, &entry)) {
    // Keeping the previous form would serve a stale record.
    Erase(client);
    return;
  }
  Shard& shard = ShardOf(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  StoreLocked(shard, key, entry);
}

void VerdictCache::Erase(const IpAddress& client) {
  if (capacity_ == 0) return;
  Key key = MakeKey(client);
  Shard& shard = ShardOf(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  if (shard.map.erase(key) != 0) size_.fetch_sub(1, std::memory_order_relaxed);
}

void VerdictCache::EraseExpired(int64_t drop_before) {
  if (capacity_ == 0) return;
  for (size_t i = 0; i < kShards; ++i) {
    Shard& shard = shards_[i];
    std::lock_guard<std::mutex> lock(shard.mu);
    for (auto it = shard.map.begin(); it != shard.map.end();) {
      const Entry& e = it->second;
      int64_t latest = 0;
      for (size_t p = 0; p < e.count; ++p) latest = std::max<int64_t>(latest, e.expiry[p]);
      if (latest < drop_before) {
        it = shard.map.erase(it);
        size_.fetch_sub(1, std::memory_order_relaxed);
      } else {
        ++it;
      }
    }
  }
}

bool VerdictCache::Fill(const IpAddress& client, const VerdictRecord& record, uint64_t epoch) {
  if (capacity_ == 0) return true;
  Key key = MakeKey(client);
  Entry entry;
  if (!Compact(record, &entry)) return true;
  Shard& shard = ShardOf(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  // Writers bump the epoch after their RocksDB write and before they touch
  // the cache. An unchanged epoch here means any write that raced with the
  // caller's read has yet to reach the cache, and its Put will replace what
  // is stored now.
  if (epoch_.load(std::memory_order_acquire) != epoch) return false;
  if (shard.map.count(key) == 0) StoreLocked(shard, key, entry);
  return true;
}

}  // namespace mxs
