// Tests of the in-memory record cache (core/verdict_cache.cc) on its own:
// what is cached and what is refused, the write epoch that keeps a reader
// from caching a record older than a concurrent write, the capacity bound,
// and the retention sweep that follows a store compaction. Its use by the
// store (preload, coherence with RocksDB) is tested in verdict_store_test.cc.
#include "core/verdict_cache.h"

#include <gtest/gtest.h>

#include <string>

namespace mxs {
namespace {

IpAddress Ip(const char* text) { return *IpAddress::Parse(text); }

VerdictRecord Rec(std::initializer_list<std::pair<const char*, int64_t>> passes) {
  VerdictRecord r;
  for (const auto& [f, e] : passes) r.Set(f, e);
  return r;
}

TEST(VerdictCacheTest, PutGetErase) {
  VerdictCache cache(1000);
  auto a = Ip("192.0.2.1"), b = Ip("2001:db8::1");
  EXPECT_EQ(cache.Get(a), std::nullopt);
  cache.Put(a, Rec({{"pregreet", 100}, {"dnsbl", 200}}));
  cache.Put(b, Rec({{"pipelining", 300}}));
  EXPECT_EQ(cache.Get(a), Rec({{"pregreet", 100}, {"dnsbl", 200}}));
  EXPECT_EQ(cache.Get(b), Rec({{"pipelining", 300}}));
  EXPECT_EQ(cache.size(), 2u);
  cache.Put(a, Rec({{"pregreet", 150}}));  // replaces the whole record
  EXPECT_EQ(cache.Get(a), Rec({{"pregreet", 150}}));
  cache.Erase(a);
  EXPECT_EQ(cache.Get(a), std::nullopt);
  EXPECT_EQ(cache.size(), 1u);
}

// IPv4 192.0.2.1 and the IPv6 address with the same leading bytes differ.
TEST(VerdictCacheTest, FamiliesAreDistinct) {
  VerdictCache cache(1000);
  cache.Put(Ip("192.0.2.1"), Rec({{"pregreet", 1}}));
  EXPECT_EQ(cache.Get(Ip("c000:201::")), std::nullopt);
}

TEST(VerdictCacheTest, FillNeverReplacesAndYieldsToWrites) {
  VerdictCache cache(1000);
  auto a = Ip("192.0.2.1"), b = Ip("192.0.2.2");
  uint64_t epoch = cache.epoch();
  EXPECT_TRUE(cache.Fill(a, Rec({{"pregreet", 1}}), epoch));
  EXPECT_TRUE(cache.Fill(a, Rec({{"pregreet", 2}}), epoch));  // already cached: kept
  EXPECT_EQ(cache.Get(a), Rec({{"pregreet", 1}}));
  // A write of any client between the read and the fill: the fill is refused,
  // since the record read may be older than what the writer will cache.
  cache.BeginWrite();
  EXPECT_FALSE(cache.Fill(b, Rec({{"pregreet", 3}}), epoch));
  EXPECT_EQ(cache.Get(b), std::nullopt);
  EXPECT_TRUE(cache.Fill(b, Rec({{"pregreet", 3}}), cache.epoch()));
  EXPECT_EQ(cache.Get(b), Rec({{"pregreet", 3}}));
}

TEST(VerdictCacheTest, RecordsThatDoNotFitAreNotCached) {
  VerdictCache cache(1000);
  auto a = Ip("192.0.2.1");
  VerdictRecord many;
  for (size_t i = 0; i <= VerdictCache::kMaxPasses; ++i) many.Set("f" + std::to_string(i), 10);
  cache.Put(a, Rec({{"pregreet", 1}}));
  cache.Put(a, many);  // the old form must not stay behind
  EXPECT_EQ(cache.Get(a), std::nullopt);
  cache.Put(a, Rec({{"pregreet", -1}}));
  EXPECT_EQ(cache.Get(a), std::nullopt);
  cache.Put(a, Rec({{"pregreet", int64_t{1} << 32}}));
  EXPECT_EQ(cache.Get(a), std::nullopt);
  cache.Put(a, Rec({{"pregreet", (int64_t{1} << 32) - 1}}));
  EXPECT_EQ(cache.Get(a), Rec({{"pregreet", (int64_t{1} << 32) - 1}}));
  EXPECT_TRUE(cache.Fill(a, many, cache.epoch()));  // not an epoch problem
  EXPECT_EQ(cache.size(), 1u);
}

// Damaged or hostile records could carry any names: the name table stops
// growing at kMaxNames, and records with new names are then not cached.
TEST(VerdictCacheTest, TheNameTableIsBounded) {
  VerdictCache cache(100000);
  for (size_t i = 0; i < VerdictCache::kMaxNames; ++i) {
    cache.Put(IpAddress::V4(static_cast<uint32_t>(i)),
              Rec({{("n" + std::to_string(i)).c_str(), 1}}));
  }
  auto a = Ip("192.0.2.1");
  cache.Put(a, Rec({{"one-too-many", 1}}));
  EXPECT_EQ(cache.Get(a), std::nullopt);
  cache.Put(a, Rec({{"n7", 1}}));  // a known name still works
  EXPECT_EQ(cache.Get(a), Rec({{"n7", 1}}));
}

TEST(VerdictCacheTest, CapacityBoundsTheSize) {
  VerdictCache cache(640);  // 10 per shard
  for (uint32_t i = 0; i < 20000; ++i) cache.Put(IpAddress::V4(i), Rec({{"pregreet", i}}));
  EXPECT_LE(cache.size(), 640u);
  EXPECT_GE(cache.size(), 600u);  // every shard is full, none over
  EXPECT_TRUE(cache.full());
  // What is cached is right.
  size_t found = 0;
  for (uint32_t i = 0; i < 20000; ++i) {
    if (auto r = cache.Get(IpAddress::V4(i))) {
      ++found;
      EXPECT_EQ(*r, Rec({{"pregreet", i}}));
    }
  }
  EXPECT_EQ(found, cache.size());
}

// Sampled LRU: entries used again and again outlive a stream of one-off ones.
TEST(VerdictCacheTest, RecentlyUsedEntriesSurviveEviction) {
  VerdictCache cache(6400);  // 100 per shard
  for (uint32_t i = 0; i < 64; ++i) cache.Put(IpAddress::V4(i), Rec({{"pregreet", 1}}));
  for (uint32_t i = 1000; i < 50000; ++i) {
    cache.Put(IpAddress::V4(i), Rec({{"pregreet", 1}}));
    if (i % 10 == 0) {
      for (uint32_t h = 0; h < 64; ++h) cache.Get(IpAddress::V4(h));
    }
  }
  int survivors = 0;
  for (uint32_t i = 0; i < 64; ++i) survivors += cache.Get(IpAddress::V4(i)).has_value();
  // Random eviction would keep about 100/(100+49000/64) = 12% of them.
  EXPECT_GE(survivors, 58);
}

TEST(VerdictCacheTest, EraseExpiredDropsWhatCompactionDrops) {
  VerdictCache cache(1000);
  auto old = Ip("192.0.2.1"), mixed = Ip("192.0.2.2"), empty = Ip("192.0.2.3");
  cache.Put(old, Rec({{"pregreet", 10}, {"dnsbl", 20}}));
  cache.Put(mixed, Rec({{"pregreet", 10}, {"dnsbl", 5000}}));
  cache.Put(empty, VerdictRecord{});
  cache.EraseExpired(20);  // latest expiry 20 is not before 20: kept
  EXPECT_TRUE(cache.Get(old));
  EXPECT_EQ(cache.Get(empty), std::nullopt);
  cache.EraseExpired(21);
  EXPECT_EQ(cache.Get(old), std::nullopt);
  EXPECT_TRUE(cache.Get(mixed));
  EXPECT_EQ(cache.size(), 1u);
}

TEST(VerdictCacheTest, CapacityZeroHoldsNothing) {
  VerdictCache cache(0);
  auto a = Ip("192.0.2.1");
  cache.Put(a, Rec({{"pregreet", 1}}));
  EXPECT_TRUE(cache.Fill(a, Rec({{"pregreet", 1}}), cache.epoch()));
  EXPECT_EQ(cache.Get(a), std::nullopt);
  EXPECT_EQ(cache.size(), 0u);
  cache.EraseExpired(100);
}

}  // namespace
}  // namespace mxs
