// verdict_store: the RocksDB-backed verdict store, and the record encoding.
//
// Layout: one key per client address (a family byte, 4 or 6, then the
// address bytes in network order), whose value is a VerdictRecord message
// (api/mxscreen/store/v1/verdict.proto): filter name -> pass expiry.
//
// Durability: the write-ahead log is on, but a write is not fsync'ed. Every
// write reaches the kernel before Update returns, so a crash of the process
// (kill -9) loses nothing; a background thread syncs the log once a second
// (when there were writes), so a power failure or kernel crash loses at most
// about the last second of passes (a whole-store compaction in progress can
// delay a sync by its duration). That is acceptable for a cache (spec
// section 7): a lost pass means the client is tested once more.
//
// Expiry: nothing here sweeps. A compaction filter drops every record whose
// latest pass expired longer ago than the retention time while RocksDB
// compacts, and the background thread compacts the whole key range every
// cleanup interval (postscreen_cache_cleanup_interval) so that records go
// even when there is little write traffic to trigger compactions.
//
// Failures: a store that fails while running must not stop screening. A
// failed read is "no record", a failed write is skipped; both are counted
// and logged at most once a minute. After a failed write the background
// thread closes and reopens the DB, once a second until that works (see
// Reopen for why not DB::Resume()). No restart, and no traffic, is needed
// for the store to come back.
#include "core/verdict_store.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <rocksdb/cache.h>
#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>

#include <netinet/in.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <limits>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <thread>

#include "core/logger.h"
#include "core/verdict_cache.h"
#include "mxscreen/store/v1/verdict.pb.h"

namespace mxs {

// ---- VerdictRecord

int64_t VerdictRecord::ExpiryOf(std::string_view filter) const {
  for (const auto& [name, expiry] : passes) {
    if (name == filter) return expiry;
  }
  return 0;
}

void VerdictRecord::Set(std::string_view filter, int64_t expiry) {
  for (auto& [name, e] : passes) {
    if (name == filter) {
      e = expiry;
      return;
    }
  }
  passes.emplace_back(std::string(filter), expiry);
}

void VerdictRecord::Merge(const VerdictRecord& other) {
  for (const auto& [name, expiry] : other.passes) Set(name, expiry);
}

int64_t VerdictRecord::LatestExpiry() const {
  int64_t latest = 0;
  for (const auto& p : passes) latest = std::max(latest, p.second);
  return latest;
}

std::string EncodeVerdictRecord(const VerdictRecord& record) {
  mxscreen::store::v1::VerdictRecord msg;
  for (const auto& [name, expiry] : record.passes) {
    auto* p = msg.add_passes();
    p->set_filter(name);
    p->set_expiry(expiry);
  }
  return msg.SerializeAsString();
}

// Reads the wire format directly rather than through the generated
// message: this runs on every hit, and the generated parser allocates a
// message per pass and costs about as much as the RocksDB lookup itself.
// What it accepts and yields is the generated parser's (the fuzz target
// checks the two against each other): unknown fields and fields of an
// unexpected wire type are skipped, the last value of a field wins.
namespace {

// CodedInputStream::ReadTag, but refusing what the generated parser refuses
// and ReadTag lets through: a tag longer than five bytes (ReadTag reads up to
// ten), and field number 0. Returns 0 (as ReadTag does at the end) with *bad
// set.
uint32_t ReadTagStrict(google::protobuf::io::CodedInputStream* in, bool* bad) {
  int start = in->CurrentPosition();
  uint32_t tag = in->ReadTag();
  int n = in->CurrentPosition() - start;
  if (tag != 0 && (n > 5 || tag >> 3 == 0)) {
    *bad = true;
    return 0;
  }
  return tag;
}

// CodedInputStream::ReadVarintSizeAsInt, but refusing a length written in
// more than five bytes, as the generated parser does (ReadVarintSizeAsInt
// reads up to ten and drops the high bits).
bool ReadSizeStrict(google::protobuf::io::CodedInputStream* in, int* size) {
  int start = in->CurrentPosition();
  return in->ReadVarintSizeAsInt(size) && in->CurrentPosition() - start <= 5;
}

// WireFormatLite::SkipField, but with the strict tag and length reads above
// for what it skips (an unknown length-delimited field or a group holding
// one would otherwise pass with a ten-byte length the generated parser
// refuses).
bool SkipFieldStrict(google::protobuf::io::CodedInputStream* in, uint32_t tag, bool* bad) {
  using google::protobuf::internal::WireFormatLite;
  switch (WireFormatLite::GetTagWireType(tag)) {
    case WireFormatLite::WIRETYPE_LENGTH_DELIMITED: {
      int n;
      return ReadSizeStrict(in, &n) && in->Skip(n);
    }
    case WireFormatLite::WIRETYPE_START_GROUP: {
      if (!in->IncrementRecursionDepth()) return false;
      while (uint32_t inner = ReadTagStrict(in, bad)) {
        if (WireFormatLite::GetTagWireType(inner) == WireFormatLite::WIRETYPE_END_GROUP) {
          in->DecrementRecursionDepth();
          return WireFormatLite::GetTagFieldNumber(inner) == WireFormatLite::GetTagFieldNumber(tag);
        }
        if (!SkipFieldStrict(in, inner, bad)) return false;
      }
      return false;  // the input ended (or went bad) inside the group
    }
    default:
      return WireFormatLite::SkipField(in, tag);
  }
}

}  // namespace

std::optional<VerdictRecord> DecodeVerdictRecord(std::string_view bytes) {
  using google::protobuf::internal::WireFormatLite;
  constexpr uint32_t kPassTag = 1 << 3 | WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
  constexpr uint32_t kFilterTag = 1 << 3 | WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
  constexpr uint32_t kExpiryTag = 2 << 3 | WireFormatLite::WIRETYPE_VARINT;
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) return std::nullopt;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  VerdictRecord out;
  out.passes.reserve(8);  // the five built-in tests and a few plugins
  bool bad = false;
  while (uint32_t tag = ReadTagStrict(&in, &bad)) {
    if (tag != kPassTag) {
      if (!SkipFieldStrict(&in, tag, &bad)) return std::nullopt;
      continue;
    }
    int len;
    if (!ReadSizeStrict(&in, &len)) return std::nullopt;
    // PushLimit ignores a limit past the end, which would let a truncated
    // pass through.
    if (len > static_cast<int>(bytes.size()) - in.CurrentPosition()) return std::nullopt;
    auto limit = in.PushLimit(len);
    std::string filter;
    int64_t expiry = 0;
    while (uint32_t field = ReadTagStrict(&in, &bad)) {
      bool ok;
      if (field == kFilterTag) {
        int n;
        ok = ReadSizeStrict(&in, &n) && in.ReadString(&filter, n);
      } else if (field == kExpiryTag) {
        uint64_t v;
        ok = in.ReadVarint64(&v);
        expiry = static_cast<int64_t>(v);
      } else {
        ok = SkipFieldStrict(&in, field, &bad);
      }
      if (!ok) return std::nullopt;
    }
    // ReadTag also returns 0 on a bad varint or a 0 tag; only the end of
    // the pass (its length limit) is a legitimate end.
    if (bad || !in.ConsumedEntireMessage()) return std::nullopt;
    in.PopLimit(limit);
    // A damaged or hand-made record may name a filter twice; ExpiryOf and
    // Merge assume each name appears once, so the last one replaces.
    auto same = std::find_if(out.passes.begin(), out.passes.end(),
                             [&](const auto& p) { return p.first == filter; });
    if (same != out.passes.end()) {
      same->second = expiry;
    } else {
      out.passes.emplace_back(std::move(filter), expiry);
    }
  }
  if (bad || !in.ConsumedEntireMessage()) return std::nullopt;
  return out;
}

namespace {

int64_t SystemClock() { return static_cast<int64_t>(time(nullptr)); }

// The record key: a family byte keeps 1.2.3.4 and ::102:304 apart.
struct Key {
  std::array<char, 17> buf;
  size_t len;
  explicit Key(const IpAddress& a) {
    size_t n = a.is_v4() ? 4 : 16;
    buf[0] = a.is_v4() ? 4 : 6;
    std::memcpy(buf.data() + 1, a.bytes().data(), n);
    len = n + 1;
  }
  rocksdb::Slice slice() const { return rocksdb::Slice(buf.data(), len); }
};

// Drops records past retention. Undecodable values go too: nothing can ever
// read them, and keeping them would keep a damaged record forever.
class RetentionFilter : public rocksdb::CompactionFilter {
 public:
  explicit RetentionFilter(int64_t drop_before) : drop_before_(drop_before) {}
  bool Filter(int /*level*/, const rocksdb::Slice& /*key*/, const rocksdb::Slice& value,
              std::string* /*new_value*/, bool* /*value_changed*/) const override {
    auto record = DecodeVerdictRecord(std::string_view(value.data(), value.size()));
    return !record || record->LatestExpiry() < drop_before_;
  }
  const char* Name() const override { return "mxs.RetentionFilter"; }

 private:
  int64_t drop_before_;
};

// One filter per compaction, so that a compaction judges every record
// against the same "now" and the clock is read once, not per key.
class RetentionFilterFactory : public rocksdb::CompactionFilterFactory {
 public:
  RetentionFilterFactory(std::function<int64_t()> clock, Seconds retention)
      : clock_(std::move(clock)), retention_(retention.count()) {}
  std::unique_ptr<rocksdb::CompactionFilter> CreateCompactionFilter(
      const rocksdb::CompactionFilter::Context& /*context*/) override {
    return std::make_unique<RetentionFilter>(clock_() - retention_);
  }
  const char* Name() const override { return "mxs.RetentionFilterFactory"; }

 private:
  std::function<int64_t()> clock_;
  int64_t retention_;
};

// The block cache, one per process so that several listeners' stores share
// one memory budget (RocksDB keys it by DB and file, so sharing is safe). An
// LRU cache takes memory only as it fills. It holds the data and index blocks
// a lookup that misses the record cache (core/verdict_cache.h) reads. There
// is no RocksDB row cache: the record cache does its job in a quarter of the
// memory, without RocksDB's per-Get overhead.
struct Caches {
  std::shared_ptr<rocksdb::Cache> block = rocksdb::NewLRUCache(64 << 20);
};
Caches& SharedCaches() {
  static Caches* caches = new Caches;  // never destroyed: stores may outlive statics
  return *caches;
}

// The key of the sync marker: no address has family 0, so no record uses it.
const rocksdb::Slice kSyncMarker("\0", 1);

class RocksVerdictStore : public VerdictStore {
 public:
  RocksVerdictStore(const VerdictStoreOptions& options, Logger* logger)
      : path_(options.path),
        clock_(options.clock ? options.clock : SystemClock),
        logger_(logger ? logger : &Logger::Global()),
        cleanup_interval_(options.cleanup_interval),
        retention_(options.retention_time),
        cache_(options.memory_records) {
    options_.create_if_missing = options.create_if_missing;
    if (options.env) options_.env = options.env;
    options_.compaction_filter_factory =
        std::make_shared<RetentionFilterFactory>(clock_, options.retention_time);
    // Point lookups only (the same choices as Options::OptimizeForPointLookup):
    // a bloom filter makes the common miss (a new client) cost no data-block
    // read, and a hash index inside each data block makes a hit cheap.
    rocksdb::BlockBasedTableOptions t;
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    t.data_block_index_type = rocksdb::BlockBasedTableOptions::kDataBlockBinaryAndHash;
    t.block_cache = SharedCaches().block;
    options_.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
    options_.memtable_prefix_bloom_size_ratio = 0.02;
    options_.memtable_whole_key_filtering = true;
    options_.compression = rocksdb::kLZ4Compression;
    // RocksDB's own info log lives in the store directory; keep it small.
    options_.keep_log_file_num = 3;
    options_.max_log_file_size = 1 << 20;

    rocksdb::Status s;
    // RocksDB would create the directory (and its LOCK and LOG files) even
    // when told not to create the DB: a mistyped path must leave nothing.
    if (!options.create_if_missing && options_.env->FileExists(path_ + "/CURRENT").IsNotFound()) {
      s = rocksdb::Status::NotFound("no verdict store here (" + path_ + "/CURRENT does not exist)");
    } else {
      s = OpenDb();
    }
    if (!s.ok()) {
      std::string why = s.ToString();
      // RocksDB takes an flock on PATH/LOCK: failing to get it means another
      // process (normally the gateway) has the store open.
      if (s.IsIOError() && why.find("/LOCK") != std::string::npos) {
        why += " (the store is in use by another process: is the gateway running?)";
      }
      throw std::runtime_error("verdict store " + path_ + ": " + why);
    }
    // Only a reopen after the first open may fail quietly into "closed".
    options_.create_if_missing = true;
    background_ = std::thread([this] { BackgroundLoop(); });
    if (options.preload && cache_.capacity() > 0) preload_ = std::thread([this] { Preload(); });
  }

  ~RocksVerdictStore() override {
    {
      std::lock_guard<std::mutex> lock(bg_mu_);
      stop_ = true;
      stopping_.store(true);
    }
    {
      // Aborts a periodic compaction in progress: a shutdown must not wait
      // for a whole-store compaction.
      std::shared_lock<std::shared_mutex> lock(db_mu_);
      if (db_) db_->DisableManualCompaction();
    }
    bg_cv_.notify_all();
    background_.join();
    if (preload_.joinable()) preload_.join();
    std::unique_lock<std::shared_mutex> lock(db_mu_);
    if (db_) {
      // What the next second would have synced; never on a failed WAL.
      if (!writes_suspended_.load()) SyncWal();
      db_->Close();
    }
  }

  std::optional<VerdictRecord> Lookup(const IpAddress& client) override {
    DbRef db(this);
    if (!db) return std::nullopt;
    // While the store is seen failing, memory does not answer either: the
    // gateway screens as if nothing were cached (spec section 7) until a
    // read of RocksDB works again.
    if (!failing_.load(std::memory_order_relaxed)) {
      if (auto cached = cache_.Get(client)) return cached;
    }
    uint64_t epoch = cache_.epoch();
    Key key(client);
    rocksdb::PinnableSlice value;
    rocksdb::Status s =
        db->Get(rocksdb::ReadOptions(), db->DefaultColumnFamily(), key.slice(), &value);
    if (!s.ok() && !s.IsNotFound()) {
      Failed(s.ToString());
      return std::nullopt;
    }
    if (failing_.load(std::memory_order_relaxed)) failing_.store(false, std::memory_order_relaxed);
    if (s.IsNotFound()) return std::nullopt;
    auto record = DecodeVerdictRecord(std::string_view(value.data(), value.size()));
    if (!record) {
      Failed("damaged record for " + client.ToString());
      return record;
    }
    cache_.Fill(client, *record, epoch);
    return record;
  }

  void Update(const IpAddress& client, const VerdictRecord& passes) override {
    Key key(client);
    // Read-modify-write under a per-key stripe lock: two sessions of the same
    // client concluding at once on two workers must not lose each other's
    // passes. RocksDB has a single writer process, so a process lock is enough.
    std::lock_guard<std::mutex> stripe(Stripe(key));
    DbRef db(this, DbRef::kWrite);
    if (!db) return;
    std::string value;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), key.slice(), &value);
    VerdictRecord record;
    if (s.ok()) {
      // A damaged record is simply replaced.
      if (auto old = DecodeVerdictRecord(value)) record = std::move(*old);
    } else if (!s.IsNotFound()) {
      // Writing only the new passes would erase the others: skip the write.
      Failed(s.ToString());
      return;
    }
    record.Merge(passes);
    s = db->Put(rocksdb::WriteOptions(), key.slice(), EncodeVerdictRecord(record));
    if (!s.ok()) {
      WriteFailed(s.ToString());
      return;
    }
    cache_.BeginWrite();
    cache_.Put(client, record);
    wal_dirty_.store(true, std::memory_order_relaxed);
  }

  bool Delete(const IpAddress& client) override {
    Key key(client);
    std::lock_guard<std::mutex> stripe(Stripe(key));
    DbRef db(this, DbRef::kWrite);
    if (!db) return false;
    std::string value;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), key.slice(), &value);
    if (s.IsNotFound()) return false;
    if (!s.ok()) {
      Failed(s.ToString());
      return false;
    }
    s = db->Delete(rocksdb::WriteOptions(), key.slice());
    if (!s.ok()) {
      WriteFailed(s.ToString());
      return false;
    }
    cache_.BeginWrite();
    cache_.Erase(client);
    wal_dirty_.store(true, std::memory_order_relaxed);
    return true;
  }

  uint64_t error_count() const override { return errors_.load(std::memory_order_relaxed); }
  size_t cached_records() const override { return cache_.size(); }

  uint64_t CountRecords() override {
    std::lock_guard<std::mutex> count_lock(count_mu_);
    auto start = std::chrono::steady_clock::now();
    uint64_t epoch = cache_.epoch();
    if (counted_ && (epoch == count_epoch_ || start < next_count_)) return count_;
    std::shared_lock<std::shared_mutex> lock(db_mu_, std::try_to_lock);
    if (!lock || !db_) return count_;
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    uint64_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (AddressOfKey(it->key())) ++n;
    }
    if (!it->status().ok()) return count_;
    auto took = std::chrono::steady_clock::now() - start;
    count_ = n;
    counted_ = true;
    count_epoch_ = epoch;
    next_count_ =
        start + std::min<std::chrono::steady_clock::duration>(took * 100, std::chrono::seconds(30));
    return count_;
  }

  std::string Degraded() const override {
    if (reopening_.load(std::memory_order_acquire)) return "being reopened after an error";
    if (writes_suspended_.load(std::memory_order_acquire)) {
      return "writes suspended after a failed write, until the store is reopened";
    }
    if (failing_.load(std::memory_order_relaxed)) return "reads failing";
    return "";
  }

  void CompactNow() override {
    DbRef db(this, DbRef::kWrite);
    if (!db) return;
    rocksdb::Status s = db->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr);
    // Incomplete: cancelled by the destructor, not a store failure.
    if (!s.ok() && !s.IsIncomplete()) WriteFailed(s.ToString());
    // The compaction filter's cut-off, taken now: within a second of it.
    if (s.ok()) cache_.EraseExpired(clock_() - retention_.count());
  }

 private:
  static constexpr int64_t kLogInterval = 60;  // seconds between error logs
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::min();
  static constexpr size_t kStripes = 64;

  // The open DB for one operation, or none (counted and logged as a failure)
  // while the store is closed after an error or being reopened, and for a
  // write, from a failed write until the reopen. Never waits for a reopen,
  // which replays the WAL and may take a while: a worker's event loop must
  // not stall on it, and "nothing cached" is the answer meanwhile.
  class DbRef {
   public:
    enum Use { kRead, kWrite };
    explicit DbRef(RocksVerdictStore* store, Use use = kRead) {
      if (store->reopening_.load(std::memory_order_acquire) ||
          !(lock_ = std::shared_lock<std::shared_mutex>(store->db_mu_, std::try_to_lock))) {
        store->Failed("being reopened after an error");
        return;
      }
      if (!store->db_) {
        store->Failed(store->closed_reason_);
        return;
      }
      if (use == kWrite && store->writes_suspended_.load(std::memory_order_acquire)) {
        store->Failed("writes suspended after a failed write, until the store is reopened");
        return;
      }
      db_ = store->db_.get();
    }
    explicit operator bool() const { return db_ != nullptr; }
    rocksdb::DB* operator->() const { return db_; }

   private:
    std::shared_lock<std::shared_mutex> lock_;
    rocksdb::DB* db_ = nullptr;
  };

  rocksdb::Status OpenDb() {
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(options_, path_, &db);
    if (s.ok()) db_.reset(db);
    return s;
  }

  std::mutex& Stripe(const Key& key) {
    size_t h = std::hash<std::string_view>()(std::string_view(key.buf.data(), key.len));
    return stripes_[h % kStripes];
  }

  // True (and takes the slot) when `interval` passed since *last. A clock that
  // went backwards counts as elapsed, so a clock step cannot mute the log.
  static bool Due(std::atomic<int64_t>* last, int64_t now, int64_t interval) {
    int64_t prev = last->load(std::memory_order_relaxed);
    if (prev != kNever && now >= prev && now - prev < interval) return false;
    return last->compare_exchange_strong(prev, now, std::memory_order_relaxed);
  }

  // Every failure goes through here: count, and log (rate-limited).
  void Failed(const std::string& reason) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    failing_.store(true, std::memory_order_relaxed);
    if (Due(&last_log_, clock_(), kLogInterval)) {
      logger_->Logf("mxscreen",
                    "warning: verdict store %s: %s; screening as if nothing were cached",
                    path_.c_str(), reason.c_str());
    }
  }

  // A failed write (or flush, compaction, WAL sync): no further write may
  // reach this DB. In Debian's RocksDB (built with assertions) a write that
  // reaches a WAL writer which saw an error aborts the process, and RocksDB's
  // own recovery can clear its error state without replacing that writer
  // (seen with an empty WAL). So writes stay suspended until Reopen has put
  // a new DB, with a new WAL, in place.
  void WriteFailed(const std::string& reason) {
    writes_suspended_.store(true, std::memory_order_release);
    needs_reopen_.store(true, std::memory_order_relaxed);
    Failed(reason);
  }

  // Closes and reopens the DB, which replays the WAL: nothing acknowledged
  // is lost, and the new DB starts with a healthy WAL. Not DB::Resume(): it
  // refuses what RocksDB deems fatal (any plain I/O error in the WAL), may
  // leave the failed WAL writer in place, and, called while the disk still
  // fails, stopped RocksDB's own recovery from a full disk for good. On a disk
  // that still fails the open fails too, harmlessly (the store stays closed
  // and every operation answers "nothing cached"), and is tried again a
  // second later. True once the store is open again.
  bool Reopen() {
    reopening_.store(true, std::memory_order_release);
    std::unique_lock<std::shared_mutex> lock(db_mu_);
    if (db_) {
      // Close reports the error the WAL writer saw; the DB goes away anyway.
      db_->Close();
      db_.reset();
    }
    rocksdb::Status s = OpenDb();
    if (!s.ok()) closed_reason_ = s.ToString();
    writes_suspended_.store(!s.ok(), std::memory_order_release);
    reopening_.store(false, std::memory_order_release);
    lock.unlock();
    if (s.ok()) {
      logger_->Logf("mxscreen", "verdict store %s: reopened after an error", path_.c_str());
    }
    return s.ok();
  }

  // Makes every write so far durable against a power failure: a synced write
  // of a tombstone syncs the whole WAL. Not DB::SyncWAL(): this one goes
  // through the write path, which refuses to run on a WAL that saw an error,
  // where SyncWAL would trip an assertion in Debian's (assert-enabled)
  // RocksDB build and abort the gateway.
  rocksdb::Status SyncWal() {
    rocksdb::WriteOptions w;
    w.sync = true;
    return db_->Delete(w, kSyncMarker);
  }

  // The client address a key was made from (Key's inverse); nullopt for the
  // sync marker or anything else that is not a record key.
  static std::optional<IpAddress> AddressOfKey(const rocksdb::Slice& key) {
    if (key.size() == 5 && key[0] == 4) {
      sockaddr_in sa{};
      sa.sin_family = AF_INET;
      std::memcpy(&sa.sin_addr, key.data() + 1, 4);
      return IpAddress::FromSockaddr(reinterpret_cast<const sockaddr*>(&sa));
    }
    if (key.size() == 17 && key[0] == 6) {
      sockaddr_in6 sa{};
      sa.sin6_family = AF_INET6;
      std::memcpy(&sa.sin6_addr, key.data() + 1, 16);
      return IpAddress::FromSockaddr(reinterpret_cast<const sockaddr*>(&sa));
    }
    return std::nullopt;
  }

  // Fills the record cache from the store after opening, so that a restart
  // does not make every known client's next lookup a slow one. Runs beside
  // the gateway (lookups meanwhile go to RocksDB as usual) in batches, each
  // under one DB reference so a reopen is never held up for long. A batch is
  // one iterator snapshot, valid only while no write happens (the cache's
  // epoch): when one does, the next batch starts a new snapshot at the key
  // it stopped on.
  void Preload() {
    constexpr int kBatch = 4096;
    std::string resume;  // the first key of the next batch; empty: the start
    int stalls = 0;      // batches in a row that made no progress
    while (!stopping_.load(std::memory_order_relaxed) && !cache_.full() && stalls < 100) {
      std::shared_lock<std::shared_mutex> lock(db_mu_, std::try_to_lock);
      if (!lock || !db_ || reopening_.load(std::memory_order_acquire)) return;
      uint64_t epoch = cache_.epoch();
      // A one-off scan: its blocks would only push useful ones out of the
      // block cache.
      rocksdb::ReadOptions read;
      read.fill_cache = false;
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read));
      if (resume.empty()) {
        it->SeekToFirst();
      } else {
        it->Seek(resume);
      }
      int n = 0;
      bool moved = false;
      for (; it->Valid() && n < kBatch && !cache_.full(); it->Next(), ++n) {
        auto address = AddressOfKey(it->key());
        if (!address) continue;
        auto record = DecodeVerdictRecord(std::string_view(it->value().data(), it->value().size()));
        if (record && !cache_.Fill(*address, *record, epoch)) {
          moved = true;
          break;
        }
      }
      if (!it->status().ok()) return;      // the store's own operations report it
      if (!it->Valid() && !moved) return;  // done
      stalls = n == 0 ? stalls + 1 : 0;
      resume = it->Valid() ? it->key().ToString() : resume;
    }
  }

  void BackgroundLoop() {
    using Clock = std::chrono::steady_clock;
    auto next_cleanup = Clock::now() + cleanup_interval_;
    std::unique_lock<std::mutex> lock(bg_mu_);
    while (!stop_) {
      bg_cv_.wait_for(lock, std::chrono::seconds(1));
      if (stop_) break;
      lock.unlock();
      if (needs_reopen_.exchange(false, std::memory_order_relaxed) && !Reopen()) {
        needs_reopen_.store(true, std::memory_order_relaxed);
      }
      if (wal_dirty_.exchange(false, std::memory_order_relaxed)) {
        DbRef db(this, DbRef::kWrite);
        if (db) {
          rocksdb::Status s = SyncWal();
          if (!s.ok()) WriteFailed(s.ToString());
        }
      }
      if (cleanup_interval_.count() > 0 && Clock::now() >= next_cleanup) {
        CompactNow();
        next_cleanup = Clock::now() + cleanup_interval_;
      }
      lock.lock();
    }
  }

  const std::string path_;
  const std::function<int64_t()> clock_;
  Logger* const logger_;
  const Seconds cleanup_interval_;
  const Seconds retention_;
  rocksdb::Options options_;

  // Every operation holds db_mu_ shared; a reopen holds it exclusively.
  std::shared_mutex db_mu_;
  std::unique_ptr<rocksdb::DB> db_;  // null while reopening keeps failing
  std::string closed_reason_;        // why db_ is null (under db_mu_)
  std::atomic<bool> reopening_{false};

  std::array<std::mutex, kStripes> stripes_;
  std::atomic<uint64_t> errors_{0};
  std::atomic<int64_t> last_log_{kNever};
  std::atomic<bool> needs_reopen_{false};
  std::atomic<bool> writes_suspended_{false};
  std::atomic<bool> wal_dirty_{false};
  std::atomic<bool> failing_{false};
  // CountRecords' last count and when the next may run.
  std::mutex count_mu_;
  bool counted_ = false;
  uint64_t count_ = 0;
  uint64_t count_epoch_ = 0;
  std::chrono::steady_clock::time_point next_count_;  // a failure seen, no successful read since

  VerdictCache cache_;

  std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  bool stop_ = false;
  std::atomic<bool> stopping_{false};  // stop_, readable without bg_mu_
  std::thread background_;
  std::thread preload_;
};

}  // namespace

std::shared_ptr<VerdictStore> OpenVerdictStore(const VerdictStoreOptions& options, Logger* logger) {
  if (options.path.empty()) throw std::runtime_error("verdict store: no path configured");
  return std::make_shared<RocksVerdictStore>(options, logger);
}

std::string FormatUtc(int64_t t) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm;
  if (!gmtime_r(&tt, &tm)) return std::to_string(t);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace mxs
