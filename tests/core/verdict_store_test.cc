// Tests of the verdict store (core/verdict_store.cc) on a real RocksDB in a
// temporary directory: records per filter name, merge and delete, IPv4/IPv6
// keys, persistence across a reopen and across kill -9 (the WAL), expiry by
// the compaction filter (on an injected clock), open errors, and a store
// whose disk fails while running (injected I/O errors): nothing cached, no
// exception, one log line a minute, and recovery once the disk works again.
#include "core/verdict_store.h"

#include <gtest/gtest.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/logger.h"
#include "tests/support/scratch_dir.h"

namespace mxs {
namespace {

constexpr int64_t kT0 = 1700000000;

IpAddress Ip(const char* text) { return *IpAddress::Parse(text); }

VerdictRecord Rec(std::initializer_list<std::pair<const char*, int64_t>> passes) {
  VerdictRecord r;
  for (const auto& [f, e] : passes) r.Set(f, e);
  return r;
}

// ---- fault injection: a FileSystem whose files fail every operation while
// `failing` is set, as a full or broken disk does. Files opened before the
// failure started fail too (the WAL is opened once and kept).
struct FaultSwitch {
  std::atomic<bool> failing{false};
  // RocksDB treats the two differently: a full disk is resumable (and
  // retried by RocksDB itself), an I/O error in the WAL is fatal to the open
  // DB, which must then be reopened.
  bool no_space = false;
  rocksdb::IOStatus Check() const {
    if (!failing.load()) return rocksdb::IOStatus::OK();
    return no_space ? rocksdb::IOStatus::NoSpace("injected I/O error")
                    : rocksdb::IOStatus::IOError("injected I/O error");
  }
};

class FaultyWritableFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultyWritableFile(std::unique_ptr<rocksdb::FSWritableFile> f, const FaultSwitch* sw)
      : FSWritableFileOwnerWrapper(std::move(f)), sw_(sw) {}
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* d) override {
    auto s = sw_->Check();
    return s.ok() ? FSWritableFileOwnerWrapper::Append(data, o, d) : s;
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                           const rocksdb::DataVerificationInfo& v,
                           rocksdb::IODebugContext* d) override {
    auto s = sw_->Check();
    return s.ok() ? FSWritableFileOwnerWrapper::Append(data, o, v, d) : s;
  }
  rocksdb::IOStatus Flush(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
    auto s = sw_->Check();
    return s.ok() ? FSWritableFileOwnerWrapper::Flush(o, d) : s;
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
    auto s = sw_->Check();
    return s.ok() ? FSWritableFileOwnerWrapper::Sync(o, d) : s;
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
    auto s = sw_->Check();
    return s.ok() ? FSWritableFileOwnerWrapper::Fsync(o, d) : s;
  }

 private:
  const FaultSwitch* sw_;
};

class FaultyRandomAccessFile : public rocksdb::FSRandomAccessFileOwnerWrapper {
 public:
  FaultyRandomAccessFile(std::unique_ptr<rocksdb::FSRandomAccessFile> f, const FaultSwitch* sw)
      : FSRandomAccessFileOwnerWrapper(std::move(f)), sw_(sw) {}
  rocksdb::IOStatus Read(uint64_t offset, size_t n, const rocksdb::IOOptions& o,
                         rocksdb::Slice* result, char* scratch,
                         rocksdb::IODebugContext* d) const override {
    auto s = sw_->Check();
    return s.ok() ? FSRandomAccessFileOwnerWrapper::Read(offset, n, o, result, scratch, d) : s;
  }
  rocksdb::IOStatus MultiRead(rocksdb::FSReadRequest* reqs, size_t num_reqs,
                              const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
    auto s = sw_->Check();
    return s.ok() ? FSRandomAccessFileOwnerWrapper::MultiRead(reqs, num_reqs, o, d) : s;
  }

 private:
  const FaultSwitch* sw_;
};

class FaultyFileSystem : public rocksdb::FileSystemWrapper {
 public:
  explicit FaultyFileSystem(const FaultSwitch* sw)
      : FileSystemWrapper(rocksdb::FileSystem::Default()), sw_(sw) {}
  const char* Name() const override { return "FaultyFileSystem"; }
  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* d) override {
    if (auto s = sw_->Check(); !s.ok()) return s;
    std::unique_ptr<rocksdb::FSWritableFile> file;
    auto s = target()->NewWritableFile(f, o, &file, d);
    if (s.ok()) r->reset(new FaultyWritableFile(std::move(file), sw_));
    return s;
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* d) override {
    if (auto s = sw_->Check(); !s.ok()) return s;
    std::unique_ptr<rocksdb::FSWritableFile> file;
    auto s = target()->ReopenWritableFile(f, o, &file, d);
    if (s.ok()) r->reset(new FaultyWritableFile(std::move(file), sw_));
    return s;
  }
  rocksdb::IOStatus NewRandomAccessFile(const std::string& f, const rocksdb::FileOptions& o,
                                        std::unique_ptr<rocksdb::FSRandomAccessFile>* r,
                                        rocksdb::IODebugContext* d) override {
    if (auto s = sw_->Check(); !s.ok()) return s;
    std::unique_ptr<rocksdb::FSRandomAccessFile> file;
    auto s = target()->NewRandomAccessFile(f, o, &file, d);
    if (s.ok()) r->reset(new FaultyRandomAccessFile(std::move(file), sw_));
    return s;
  }

 private:
  const FaultSwitch* sw_;
};

class VerdictStoreTest : public test::ScratchDirTest {
 protected:
  VerdictStoreTest() : ScratchDirTest("verdict_store") {}
  void SetUp() override {
    LoggingConfig lc;
    lc.sink = config::v1::Logging::FILE;
    lc.path = dir_ + "/log";
    logger_ = std::make_shared<Logger>(lc, "mx.example");
  }
  VerdictStoreOptions Options() {
    VerdictStoreOptions o;
    o.path = dir_ + "/db";
    o.clock = [this] { return now_.load(); };
    return o;
  }
  std::shared_ptr<VerdictStore> Open() { return OpenVerdictStore(Options(), logger_.get()); }

  std::string Log() {
    std::ifstream f(dir_ + "/log");
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  int LogCount(const std::string& needle) {
    std::string log = Log();
    int n = 0;
    for (size_t p = log.find(needle); p != std::string::npos; p = log.find(needle, p + 1)) ++n;
    return n;
  }

  std::shared_ptr<Logger> logger_;
  std::atomic<int64_t> now_{kT0};
};

TEST(VerdictRecordTest, SetMergeLatest) {
  VerdictRecord r;
  EXPECT_EQ(r.ExpiryOf("pregreet"), 0);
  EXPECT_EQ(r.LatestExpiry(), 0);
  r.Set("pregreet", 100);
  r.Set("dnsbl", 300);
  r.Set("pregreet", 200);
  EXPECT_EQ(r.passes.size(), 2u);
  EXPECT_EQ(r.ExpiryOf("pregreet"), 200);
  EXPECT_EQ(r.LatestExpiry(), 300);
  r.Merge(Rec({{"dnsbl", 50}, {"my_plugin", 400}}));
  EXPECT_EQ(r, Rec({{"pregreet", 200}, {"dnsbl", 50}, {"my_plugin", 400}}));
}

TEST(VerdictRecordTest, EncodeDecode) {
  auto r = Rec({{"pregreet", kT0}, {"dnsbl", kT0 + 1}, {"a plugin with a long name", -5}});
  EXPECT_EQ(DecodeVerdictRecord(EncodeVerdictRecord(r)), r);
  EXPECT_EQ(DecodeVerdictRecord(""), VerdictRecord{});  // no passes: a valid record
  EXPECT_EQ(DecodeVerdictRecord("\xff\xff\xff"), std::nullopt);
  EXPECT_EQ(DecodeVerdictRecord(std::string("\x0a\x05\x0a\x10", 4)), std::nullopt);  // truncated
  // A filter named twice (hand-made or damaged): the last one counts.
  mxs::VerdictRecord twice;
  twice.passes = {{"pregreet", 1}, {"pregreet", 2}};
  EXPECT_EQ(DecodeVerdictRecord(EncodeVerdictRecord(twice)), Rec({{"pregreet", 2}}));
}

TEST_F(VerdictStoreTest, LookupUpdateMergeDelete) {
  auto store = Open();
  auto a = Ip("192.0.2.1");
  EXPECT_EQ(store->Lookup(a), std::nullopt);
  store->Update(a, Rec({{"pregreet", kT0 + 100}}));
  EXPECT_EQ(store->Lookup(a), Rec({{"pregreet", kT0 + 100}}));
  // A later session adds other filters' passes and renews one.
  store->Update(a, Rec({{"dnsbl", kT0 + 200}, {"my_plugin", kT0 + 300}}));
  store->Update(a, Rec({{"pregreet", kT0 + 400}}));
  EXPECT_EQ(store->Lookup(a),
            Rec({{"pregreet", kT0 + 400}, {"dnsbl", kT0 + 200}, {"my_plugin", kT0 + 300}}));
  EXPECT_EQ(store->Lookup(Ip("192.0.2.2")), std::nullopt);
  EXPECT_TRUE(store->Delete(a));
  EXPECT_FALSE(store->Delete(a));
  EXPECT_EQ(store->Lookup(a), std::nullopt);
  EXPECT_EQ(store->error_count(), 0u);
}

TEST_F(VerdictStoreTest, Ipv4AndIpv6KeysAreDistinct) {
  auto store = Open();
  // Same 4 trailing bytes, different families and addresses.
  store->Update(Ip("1.2.3.4"), Rec({{"pregreet", 1}}));
  store->Update(Ip("::102:304"), Rec({{"pregreet", 2}}));
  store->Update(Ip("::ffff:1.2.3.4"), Rec({{"pregreet", 3}}));
  store->Update(Ip("2001:db8::1"), Rec({{"dnsbl", 4}}));
  EXPECT_EQ(store->Lookup(Ip("1.2.3.4")), Rec({{"pregreet", 1}}));
  EXPECT_EQ(store->Lookup(Ip("::102:304")), Rec({{"pregreet", 2}}));
  EXPECT_EQ(store->Lookup(Ip("::ffff:1.2.3.4")), Rec({{"pregreet", 3}}));
  EXPECT_EQ(store->Lookup(Ip("2001:db8::1")), Rec({{"dnsbl", 4}}));
  EXPECT_EQ(store->Lookup(Ip("2001:db8::2")), std::nullopt);
}

TEST_F(VerdictStoreTest, ConcurrentUpdatesOfOneClientAreMerged) {
  auto store = Open();
  auto a = Ip("198.51.100.7");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        store->Update(a, Rec({{("f" + std::to_string(t) + "_" + std::to_string(i)).c_str(), i}}));
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(store->Lookup(a)->passes.size(), 800u);
}

TEST_F(VerdictStoreTest, PersistsAcrossReopen) {
  {
    auto store = Open();
    for (int i = 0; i < 100; ++i) {
      store->Update(IpAddress::V4(0xc0000200 + i), Rec({{"pregreet", kT0 + i}}));
    }
  }
  auto store = Open();
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(store->Lookup(IpAddress::V4(0xc0000200 + i)), Rec({{"pregreet", kT0 + i}})) << i;
  }
}

// The record cache (core/verdict_cache.h) in front of RocksDB: filled from
// the store in the background after opening, up to its capacity, and never
// answering differently from RocksDB.
TEST_F(VerdictStoreTest, TheRecordCacheIsFilledAfterOpening) {
  {
    auto store = Open();
    for (int i = 0; i < 300; ++i) {
      store->Update(IpAddress::V4(0xc0000200 + i), Rec({{"pregreet", kT0 + i}}));
    }
    EXPECT_EQ(store->cached_records(), 300u);  // written through
  }
  auto store = Open();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (store->cached_records() < 300 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(store->cached_records(), 300u);
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ(store->Lookup(IpAddress::V4(0xc0000200 + i)), Rec({{"pregreet", kT0 + i}})) << i;
  }
  // The verdict CLI's kind of store: no preload, filled only by lookups.
  store.reset();
  auto o = Options();
  o.preload = false;
  store = OpenVerdictStore(o, logger_.get());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(store->cached_records(), 0u);
  store->Lookup(IpAddress::V4(0xc0000200));
  EXPECT_EQ(store->cached_records(), 1u);
}

TEST_F(VerdictStoreTest, TheRecordCacheIsBoundedAndCoherent) {
  auto o = Options();
  o.memory_records = 128;
  {
    auto store = OpenVerdictStore(o, logger_.get());
    for (int i = 0; i < 1000; ++i) {
      store->Update(IpAddress::V4(0xc0000000 + i), Rec({{"pregreet", kT0 + i}}));
    }
    EXPECT_LE(store->cached_records(), 128u);
  }
  // Reopened: the preload stops at the capacity; every record still answers.
  auto store = OpenVerdictStore(o, logger_.get());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (store->cached_records() < 100 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(store->cached_records(), 100u);
  EXPECT_LE(store->cached_records(), 128u);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(store->Lookup(IpAddress::V4(0xc0000000 + i)), Rec({{"pregreet", kT0 + i}})) << i;
  }
  // Merges, deletes and re-adds are seen at once, cached or not.
  for (int i = 0; i < 1000; i += 7) {
    auto a = IpAddress::V4(0xc0000000 + i);
    store->Update(a, Rec({{"dnsbl", kT0 + 5}}));
    ASSERT_EQ(store->Lookup(a), Rec({{"pregreet", kT0 + i}, {"dnsbl", kT0 + 5}})) << i;
    ASSERT_TRUE(store->Delete(a));
    ASSERT_EQ(store->Lookup(a), std::nullopt) << i;
    store->Update(a, Rec({{"pipelining", kT0 + 6}}));
    ASSERT_EQ(store->Lookup(a), Rec({{"pipelining", kT0 + 6}})) << i;
  }
  EXPECT_LE(store->cached_records(), 128u);
  EXPECT_EQ(store->error_count(), 0u);
}

TEST_F(VerdictStoreTest, OpenErrorsNameThePathAndReason) {
  auto o = Options();
  o.create_if_missing = false;
  try {
    OpenVerdictStore(o, logger_.get());
    FAIL() << "opened a missing store";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("verdict store " + o.path + ": "), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
  }
  std::ofstream(dir_ + "/file") << "x";
  o.path = dir_ + "/file/db";
  o.create_if_missing = true;
  EXPECT_THROW(OpenVerdictStore(o, logger_.get()), std::runtime_error);
  o.path = "";
  EXPECT_THROW(OpenVerdictStore(o, logger_.get()), std::runtime_error);
}

TEST_F(VerdictStoreTest, AStoreInUseIsRefusedWithAHint) {
  auto store = Open();
  try {
    Open();
    FAIL() << "opened a store twice";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("is the gateway running?"), std::string::npos) << e.what();
  }
}

TEST_F(VerdictStoreTest, CompactionDropsRecordsPastRetention) {
  auto o = Options();
  o.retention_time = Seconds(1000);
  auto store = OpenVerdictStore(o, logger_.get());
  auto old = Ip("192.0.2.1"), mixed = Ip("192.0.2.2"), fresh = Ip("2001:db8::3");
  store->Update(old, Rec({{"pregreet", kT0 + 10}, {"dnsbl", kT0 + 20}}));
  store->Update(mixed, Rec({{"pregreet", kT0 + 10}, {"dnsbl", kT0 + 5000}}));
  store->Update(fresh, Rec({{"pregreet", kT0 + 10000}}));
  store->CompactNow();
  ASSERT_TRUE(store->Lookup(old));  // expired, but within retention
  // Exactly at expiry + retention a record is kept; one second later it goes.
  now_ = kT0 + 20 + 1000;
  store->CompactNow();
  EXPECT_TRUE(store->Lookup(old));
  now_ = kT0 + 20 + 1001;
  store->CompactNow();
  EXPECT_EQ(store->Lookup(old), std::nullopt);
  // A record stays while any of its passes is within retention.
  EXPECT_TRUE(store->Lookup(mixed));
  EXPECT_TRUE(store->Lookup(fresh));
  now_ = kT0 + 5000 + 1001;
  store->CompactNow();
  EXPECT_EQ(store->Lookup(mixed), std::nullopt);
  EXPECT_TRUE(store->Lookup(fresh));
  EXPECT_EQ(store->error_count(), 0u);
}

TEST_F(VerdictStoreTest, BackgroundThreadCompactsEveryCleanupInterval) {
  auto o = Options();
  o.retention_time = Seconds(0);
  o.cleanup_interval = Seconds(1);
  auto store = OpenVerdictStore(o, logger_.get());
  store->Update(Ip("192.0.2.1"), Rec({{"pregreet", kT0 - 1}}));
  store->Update(Ip("192.0.2.2"), Rec({{"pregreet", kT0 + 1}}));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (store->Lookup(Ip("192.0.2.1")) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(store->Lookup(Ip("192.0.2.1")), std::nullopt);
  EXPECT_TRUE(store->Lookup(Ip("192.0.2.2")));
}

class FailingDiskTest : public VerdictStoreTest, public ::testing::WithParamInterface<bool> {};

TEST_P(FailingDiskTest, DegradesToNothingCachedAndRecovers) {
  auto a = Ip("192.0.2.1"), b = Ip("192.0.2.2");
  {
    auto store = Open();
    store->Update(a, Rec({{"pregreet", kT0 + 100}}));
  }
  FaultSwitch sw;
  sw.no_space = GetParam();
  auto env = rocksdb::NewCompositeEnv(std::make_shared<FaultyFileSystem>(&sw));
  auto o = Options();
  o.env = env.get();
  auto store = OpenVerdictStore(o, logger_.get());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (store->cached_records() < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  sw.failing = true;
  // Nothing has noticed the failure yet: the record preloaded into memory
  // answers without touching the disk.
  EXPECT_EQ(store->Lookup(a), Rec({{"pregreet", kT0 + 100}}));
  EXPECT_EQ(store->error_count(), 0u);
  // A write notices it; from then on memory does not answer either: the
  // client is screened as unknown.
  EXPECT_NO_THROW(store->Update(b, Rec({{"dnsbl", kT0 + 100}})));
  EXPECT_EQ(store->Lookup(a), std::nullopt);
  EXPECT_NO_THROW(store->Update(b, Rec({{"dnsbl", kT0 + 200}})));
  EXPECT_FALSE(store->Delete(a));
  EXPECT_GE(store->error_count(), 3u);
  const std::string warning =
      "mxscreen[" + std::to_string(getpid()) + "]: warning: verdict store " + o.path + ": ";
  EXPECT_EQ(LogCount(warning), 1) << Log();
  EXPECT_EQ(LogCount("; screening as if nothing were cached\n"), 1) << Log();
  EXPECT_NE(Log().find("injected I/O error"), std::string::npos) << Log();

  // At most one line a minute.
  now_ = kT0 + 59;
  store->Lookup(a);
  EXPECT_EQ(LogCount(warning), 1);
  now_ = kT0 + 60;
  store->Lookup(a);
  EXPECT_EQ(LogCount(warning), 2);

  // While the disk keeps failing, the background reopen fails too and the
  // store stays closed: still nothing cached, nothing thrown.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(store->Lookup(a), std::nullopt);
  EXPECT_NO_THROW(store->Update(b, Rec({{"dnsbl", kT0 + 250}})));
  EXPECT_EQ(LogCount("reopened after an error"), 0);

  // The disk works again: within a few seconds, with no restart, reads and
  // writes work and nothing written before the failure is lost.
  sw.failing = false;
  uint64_t errors = store->error_count();
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool recovered = false;
  while (!recovered && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    uint64_t before = store->error_count();
    store->Update(b, Rec({{"dnsbl", kT0 + 300}}));
    recovered = store->error_count() == before;
  }
  ASSERT_TRUE(recovered) << Log();
  EXPECT_GE(store->error_count(), errors);
  EXPECT_EQ(LogCount("mxscreen[" + std::to_string(getpid()) + "]: verdict store " + o.path +
                     ": reopened after an error\n"),
            1)
      << Log();
  EXPECT_EQ(store->Lookup(a), Rec({{"pregreet", kT0 + 100}}));
  EXPECT_EQ(store->Lookup(b), Rec({{"dnsbl", kT0 + 300}}));
  uint64_t after = store->error_count();
  store->Update(Ip("192.0.2.3"), Rec({{"pipelining", kT0 + 1}}));
  EXPECT_EQ(store->error_count(), after);
  store.reset();
  // And what was written after the recovery is durable.
  auto reopened = Open();
  EXPECT_EQ(reopened->Lookup(b), Rec({{"dnsbl", kT0 + 300}}));
  EXPECT_EQ(reopened->Lookup(Ip("192.0.2.3")), Rec({{"pipelining", kT0 + 1}}));
}

INSTANTIATE_TEST_SUITE_P(IoErrorAndDiskFull, FailingDiskTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "NoSpace" : "IoError"; });

// ---- kill -9: the child is this test binary run again with
// MXS_VERDICT_KILL_CHILD=DIR (a fresh exec, not a fork of a process that
// already has RocksDB threads); it writes the records, reports how many, and
// SIGKILLs itself right after the last Update returned, well before the
// once-a-second WAL sync, so only the WAL write itself can have saved them.
constexpr int kKillRecords = 5000;

TEST(VerdictStoreKillChild, WriteThenKillSelf) {
  const char* dir = std::getenv("MXS_VERDICT_KILL_CHILD");
  if (!dir) GTEST_SKIP() << "runs only as the child of SurvivesKill9";
  VerdictStoreOptions o;
  o.path = dir;
  auto store = OpenVerdictStore(o, nullptr);
  for (int i = 0; i < kKillRecords; ++i) {
    store->Update(IpAddress::V4(0x0a000000 + i), Rec({{"pregreet", kT0 + i}, {"dnsbl", kT0}}));
  }
  std::string done = "child errors=" + std::to_string(store->error_count()) + "\n";
  ssize_t rc = write(1, done.data(), done.size());
  (void)rc;
  raise(SIGKILL);
}

TEST_F(VerdictStoreTest, SurvivesKill9) {
  std::string db = dir_ + "/db";
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(out[1], 1);
    close(out[0]);
    setenv("MXS_VERDICT_KILL_CHILD", db.c_str(), 1);
    execl("/proc/self/exe", "verdict_kill_child",
          "--gtest_filter=VerdictStoreKillChild.WriteThenKillSelf", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  std::string reported;
  char buf[256];
  ssize_t n;
  while ((n = read(out[0], buf, sizeof buf)) > 0) reported.append(buf, n);
  close(out[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  ASSERT_NE(reported.find("child errors=0\n"), std::string::npos) << reported;

  auto store = Open();
  for (int i = 0; i < kKillRecords; ++i) {
    ASSERT_EQ(store->Lookup(IpAddress::V4(0x0a000000 + i)),
              Rec({{"pregreet", kT0 + i}, {"dnsbl", kT0}}))
        << i;
  }
  EXPECT_EQ(store->error_count(), 0u);
}

}  // namespace
}  // namespace mxs
