// top_talkers: the clients and networks (/24 for IPv4, /64 for IPv6) with
// the most rejections, for the admin server's /api/summary and dashboard.
// Memory is bounded whatever the traffic: the Space-Saving algorithm keeps at
// most `capacity` keys; a new key evicts the smallest count and inherits it
// (so a reported count may overstate by at most that inherited error, which
// is reported alongside). Fed on every rejection, from any worker thread;
// one short lock per rejection, never on the pass path.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
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

  // One rejection of `client` (and its network).
  void Record(const IpAddress& client);
  // The k clients / networks with the highest counts, highest first (ties by key).
  std::vector<Entry> TopClients(size_t k) const;
  std::vector<Entry> TopNetworks(size_t k) const;
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
    explicit Table(size_t capacity) : capacity_(capacity) {}
    void Add(const Key& key);
    std::vector<std::pair<Key, Counted>> Top(size_t k) const;
    void Clear() { map_.clear(); }

   private:
    size_t capacity_;
    std::unordered_map<Key, Counted, KeyHash> map_;
  };
  static Key ClientKey(const IpAddress& a);
  static Key NetworkKey(const IpAddress& a);
  static std::string Format(const Key& k, bool network);
  std::vector<Entry> TopOf(const Table& t, size_t k, bool network) const;

  mutable std::mutex mu_;
  Table clients_;
  Table networks_;
};

}  // namespace mxs
