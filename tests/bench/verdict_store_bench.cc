// verdict_store_bench: lookups per second of the verdict store
// (core/verdict_store.cc) on a store of 1,000,000 records, single thread:
// the connect-phase cost of every connection (target: >= 500,000/s per
// core). Three cases, since their costs differ by an order of magnitude:
// misses (a new client: the record cache, then RocksDB's bloom filter
// answer), cold hits (a known client not in the record cache: RocksDB
// searches index and data blocks) and warm hits (a client in the record
// cache, core/verdict_cache.h: every client once the preload after opening
// is done, or a sender that reconnects). The store is built once through the
// public API (Update), compacted so that it looks like a long-running store
// (records in table files, not the memtable), and reopened without preload so
// the caches start empty; it lives in a temporary directory removed at the
// end. Finally it is reopened with preload, and the time the preload takes
// and the memory it adds are printed. Rates
// are per CPU second of the benchmark thread (Google Benchmark's default),
// i.e. per core, so they stay meaningful on a machine busy with other work.
//
//   mxs_verdict_bench [--records=N] [google benchmark flags]
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>

#include "core/verdict_store.h"

namespace {

// Passes must be unexpired, or the compaction below drops them.
const int64_t kNow = static_cast<int64_t>(time(nullptr));
size_t g_records = 1000000;
std::shared_ptr<mxs::VerdictStore> g_store;

// Stored clients are 10.0.0.0 + i; misses are the same offsets in 11/8.
mxs::IpAddress Client(size_t i, bool stored) {
  return mxs::IpAddress::V4((stored ? 0x0a000000u : 0x0b000000u) + static_cast<uint32_t>(i));
}

// Visits every index once in a scattered order, so lookups do not walk the
// key space in order (which would make every block read a cache hit).
size_t Scatter(size_t i) { return (i * 2654435761u) % g_records; }

// A new client: the common case at the connect phase of a busy MX.
void BM_LookupMiss(benchmark::State& state) {
  size_t i = 0, found = 0;
  for (auto _ : state) {
    auto r = g_store->Lookup(Client(Scatter(i++ % g_records), false));
    found += r.has_value();
    benchmark::DoNotOptimize(r);
  }
  if (found != 0) state.SkipWithError("a miss found a record");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LookupMiss)->MinTime(2.0);

// A known client looked up for the first time since the store was opened:
// each client once (the cursor carries over between Google Benchmark's
// runs), so neither cache has the record yet.
size_t g_cold_cursor = 0;
void BM_LookupHitCold(benchmark::State& state) {
  size_t found = 0, start = g_cold_cursor;
  for (auto _ : state) {
    auto r = g_store->Lookup(Client(Scatter(g_cold_cursor++ % g_records), true));
    found += r.has_value();
    benchmark::DoNotOptimize(r);
  }
  if (found != g_cold_cursor - start) state.SkipWithError("a stored record was not found");
  if (g_cold_cursor > g_records) state.SkipWithError("ran out of clients not yet looked up");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LookupHitCold)->MinTime(1.0);

// A known client in the record cache. Every client is looked up once first,
// untimed, which fills the cache as the preload would.
void BM_LookupHitWarm(benchmark::State& state) {
  static bool warmed = false;
  for (size_t i = 0; !warmed && i < g_records; ++i) g_store->Lookup(Client(i, true));
  warmed = true;
  size_t i = 0, found = 0;
  for (auto _ : state) {
    auto r = g_store->Lookup(Client(Scatter(i++ % g_records), true));
    found += r.has_value();
    benchmark::DoNotOptimize(r);
  }
  if (found != i) state.SkipWithError("a stored record was not found");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LookupHitWarm)->MinTime(2.0);

// For scale: the record decoding part of a hit.
void BM_DecodeRecord(benchmark::State& state) {
  static const char* kTests[] = {"pregreet", "dnsbl", "pipelining", "non_smtp", "bare_newline"};
  mxs::VerdictRecord r;
  for (int t = 0; t < 5; ++t) r.Set(kTests[t], kNow + 86400 + t);
  std::string bytes = mxs::EncodeVerdictRecord(r);
  for (auto _ : state) benchmark::DoNotOptimize(mxs::DecodeVerdictRecord(bytes));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeRecord)->MinTime(1.0);

// For scale: what a concluding session pays (read-modify-write of a record).
void BM_Update(benchmark::State& state) {
  size_t i = 0;
  mxs::VerdictRecord pass;
  pass.Set("pregreet", kNow + 86400);
  for (auto _ : state) g_store->Update(Client(Scatter(i++ % g_records), true), pass);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Update)->MinTime(2.0);

// This process's resident set size in bytes (statm), or 0.
long ResidentBytes() {
  long pages_total = 0, pages_resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2) pages_resident = 0;
    std::fclose(f);
  }
  return pages_resident * sysconf(_SC_PAGESIZE);
}

uint64_t DirBytes(const std::string& dir) {
  uint64_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.is_regular_file()) n += e.file_size();
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--records=", 10) == 0)
      g_records = std::strtoul(argv[i] + 10, nullptr, 10);
  }
  benchmark::Initialize(&argc, argv);

  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/mxs_verdict_bench_XXXXXX";
  if (!mkdtemp(tmpl.data())) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string dir = tmpl;
  int rc = 0;
  try {
    mxs::VerdictStoreOptions options;
    options.path = dir + "/store";
    options.cleanup_interval = mxs::Seconds(0);  // no compaction while measuring
    g_store = mxs::OpenVerdictStore(options, nullptr);

    auto start = std::chrono::steady_clock::now();
    static const char* kTests[] = {"pregreet", "dnsbl", "pipelining", "non_smtp", "bare_newline"};
    for (size_t i = 0; i < g_records; ++i) {
      mxs::VerdictRecord r;
      for (int t = 0; t < 5; ++t)
        r.Set(kTests[t], kNow + 86400 + static_cast<int64_t>(i % 86400) + t);
      g_store->Update(Client(i, true), r);
    }
    g_store->CompactNow();
    // Reopened, as after a restart: the caches start empty (no preload, or it
    // would answer the cold case).
    g_store.reset();
    options.preload = false;
    g_store = mxs::OpenVerdictStore(options, nullptr);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "store: %zu records (5 passes each), %.1f MB on disk, built in %.1f s\n",
                 g_records, DirBytes(options.path) / 1e6, secs);

    benchmark::RunSpecifiedBenchmarks();
    if (g_store->error_count() != 0) {
      std::fprintf(stderr, "store errors: %llu\n",
                   static_cast<unsigned long long>(g_store->error_count()));
      rc = 1;
    }

    // The preload after a restart: how long until every record is in memory,
    // and what the record cache holds in resident memory once full.
    g_store.reset();
    long rss_before = ResidentBytes();
    options.preload = true;
    auto open_start = std::chrono::steady_clock::now();
    g_store = mxs::OpenVerdictStore(options, nullptr);
    while (g_store->cached_records() < g_records &&
           std::chrono::steady_clock::now() - open_start < std::chrono::seconds(120)) {
      usleep(10000);
    }
    double preload_secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - open_start).count();
    long rss_after = ResidentBytes();
    std::fprintf(stderr,
                 "preload: %zu of %zu records in memory %.2f s after opening; resident memory "
                 "+%.1f MB (%.0f bytes per record)\n",
                 g_store->cached_records(), g_records, preload_secs, (rss_after - rss_before) / 1e6,
                 g_store->cached_records()
                     ? double(rss_after - rss_before) / g_store->cached_records()
                     : 0.0);
    if (g_store->cached_records() < g_records) rc = 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    rc = 1;
  }
  g_store.reset();
  std::filesystem::remove_all(dir);
  benchmark::Shutdown();
  return rc;
}
