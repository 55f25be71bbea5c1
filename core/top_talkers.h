// top_talkers: the clients and networks (/24 for IPv4, /64 for IPv6) with
// the most rejections, for the admin server's /api/summary and dashboard.
// Memory is bounded whatever the traffic: the Space-Saving algorithm keeps at
// most `capacity` keys; a new key evicts the smallest count and inherits it
// (so a reported count may overstate by at most that inherited error, which
// is reported alongside). The counts are kept in a min-heap, so counting a
// rejection costs O(log capacity) even when every client is new.
//
// Fed on every rejection, from any worker thread, never on the pass path.
// Counting (~1000 instructions: a lock, two tables, a heap) would be 5% of a
// rejected connection's cost, so a worker only appends the address to a ring
// of its own (lock-free, one producer): the admin thread drains the rings
// into the tables every 250 ms and before every read. A worker whose ring is
// full drains it itself, so nothing is ever dropped.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/ip_address.h"

namespace mxs {

class TopTalkers {
 public:
  struct Entry {
    std::string key;     // "192.0.2.1" or "192.0.2.0/24"
    uint64_t count = 0;  // rejections counted (an upper bound, see error)
    uint64_t error = 0;  // how much of count may belong to evicted keys
  };

  explicit TopTalkers(size_t capacity = 1024);
  ~TopTalkers();
  TopTalkers(const TopTalkers&) = delete;
  TopTalkers& operator=(const TopTalkers&) = delete;

  // One rejection of `client` (and its network): appended to the calling
  // thread's ring, counted at the next drain.
  void Record(const IpAddress& client);
  // Counts what every thread recorded so far (the reads below do it too).
  void Drain();
  // Off: Record does nothing (a gateway without an admin server has no one
  // to show the counts to). On by default.
  void SetEnabled(bool on) { enabled_.store(on, std::memory_order_relaxed); }
  // The k clients / networks with the highest counts, highest first (ties by key).
  std::vector<Entry> TopClients(size_t k);
  std::vector<Entry> TopNetworks(size_t k);
  void Clear();

  // The process's tracker, fed by sessions.
  static TopTalkers& Global();

 private:
  struct Key {
    uint64_t hi = 0, lo = 0;
    uint8_t family = 0;  // 4 or 6
    bool operator==(const Key& o) const { return hi == o.hi && lo == o.lo && family == o.family; }
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Counted {
    uint64_t count = 0;
    uint64_t error = 0;
  };
  class Table {
   public:
    explicit Table(size_t capacity);
    void Add(const Key& key);
    std::vector<std::pair<Key, Counted>> Top(size_t k) const;
    void Clear();

   private:
    struct Node {
      Key key;
      Counted c;
      uint32_t heap_pos;
    };
    uint64_t CountAt(size_t heap_index) const { return nodes_[heap_[heap_index]].c.count; }
    void Swap(size_t a, size_t b);
    // Restores the heap order below heap_[i] after its count grew.
    void SiftDown(size_t i);
    size_t capacity_;
    // The index: open addressing (linear probing, backward-shift deletion)
    // over slot numbers, sized once: no allocation per rejection.
    static constexpr uint32_t kEmpty = UINT32_MAX;
    size_t Bucket(const Key& key) const { return KeyHash()(key) & (index_.size() - 1); }
    uint32_t Find(const Key& key) const;
    void Insert(const Key& key, uint32_t slot);
    void Erase(const Key& key);

    // Nodes stay in their slot; the heap orders slot numbers by count, and a
    // node knows its heap position, so reordering never touches the index.
    std::vector<Node> nodes_;
    std::vector<uint32_t> heap_;   // min-heap of slots by count
    std::vector<uint32_t> index_;  // buckets: a slot or kEmpty; power-of-two size
  };
  static Key ClientKey(const IpAddress& a);
  static Key NetworkKey(const IpAddress& a);
  static std::string Format(const Key& k, bool network);
  std::vector<Entry> TopOf(const Table& t, size_t k, bool network);

  // One thread's recorded addresses not yet counted. head_ is written by
  // its thread only; tail_ only under mu_.
  struct Ring {
    static constexpr size_t kSize = 8192;
    std::unique_ptr<IpAddress[]> slots{new IpAddress[kSize]};
    std::atomic<uint64_t> head{0};
    std::atomic<uint64_t> tail{0};
  };
  Ring& RingOfThisThread();
  void CountLocked(const IpAddress& client);
  void DrainLocked(Ring& ring);
  void DrainAllLocked();

  const uint64_t id_;
  std::atomic<bool> enabled_{true};  // tells this tracker from one that had its address
  std::mutex mu_;
  std::vector<std::unique_ptr<Ring>> rings_;  // under mu_
  Table clients_;
  Table networks_;
};

}  // namespace mxs
