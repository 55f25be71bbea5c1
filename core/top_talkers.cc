// top_talkers: Space-Saving counts of rejected clients and networks.
#include "core/top_talkers.h"

#include <algorithm>
#include <cstdio>

namespace mxs {

size_t TopTalkers::KeyHash::operator()(const Key& k) const {
  uint64_t h = k.hi * 0x9e3779b97f4a7c15ull ^ (k.lo + 0x7f4a7c159e3779b9ull + k.family);
  h ^= h >> 29;
  return static_cast<size_t>(h * 0xbf58476d1ce4e5b9ull);
}

namespace {
std::atomic<uint64_t> next_tracker_id{1};
}  // namespace

TopTalkers::TopTalkers(size_t capacity)
    : id_(next_tracker_id.fetch_add(1)),
      clients_(std::max<size_t>(capacity, 1)),
      networks_(std::max<size_t>(capacity, 1)) {}

TopTalkers::~TopTalkers() = default;

TopTalkers& TopTalkers::Global() {
  static TopTalkers* t = new TopTalkers(1024);
  return *t;
}

TopTalkers::Key TopTalkers::ClientKey(const IpAddress& a) {
  Key k;
  const auto& b = a.bytes();
  k.family = a.is_v4() ? 4 : 6;
  for (int i = 0; i < 8; ++i) k.hi = k.hi << 8 | b[i];
  for (int i = 8; i < 16; ++i) k.lo = k.lo << 8 | b[i];
  return k;
}

TopTalkers::Key TopTalkers::NetworkKey(const IpAddress& a) {
  Key k = ClientKey(a);
  if (a.is_v4()) {
    // The first four bytes are the address: keep 24 bits of them.
    k.hi &= 0xffffff0000000000ull;
  } else {
    k.lo = 0;  // /64
  }
  return k;
}

std::string TopTalkers::Format(const Key& k, bool network) {
  std::string out;
  if (k.family == 4) {
    uint32_t v4 = static_cast<uint32_t>(k.hi >> 32);
    out = IpAddress::V4(v4).ToString();
    if (network) out += "/24";
    return out;
  }
  auto text = [&] {
    // Rebuild the 16 bytes for IpAddress's formatting.
    char buf[64];
    std::string hex;
    for (int i = 0; i < 8; ++i) {
      std::snprintf(buf, sizeof buf, "%s%x", i ? ":" : "",
                    static_cast<unsigned>(((i < 4 ? k.hi : k.lo) >> (48 - 16 * (i % 4))) & 0xffff));
      hex += buf;
    }
    auto ip = IpAddress::Parse(hex);
    return ip ? ip->ToString() : hex;
  }();
  return network ? text + "/64" : text;
}

TopTalkers::Table::Table(size_t capacity) : capacity_(capacity) {
  size_t buckets = 1;
  while (buckets < capacity * 2) buckets <<= 1;  // at most half full
  index_.assign(buckets, kEmpty);
  nodes_.reserve(capacity);
  heap_.reserve(capacity);
}

void TopTalkers::Table::Clear() {
  nodes_.clear();
  heap_.clear();
  std::fill(index_.begin(), index_.end(), kEmpty);
}

uint32_t TopTalkers::Table::Find(const Key& key) const {
  for (size_t b = Bucket(key);; b = (b + 1) & (index_.size() - 1)) {
    uint32_t slot = index_[b];
    if (slot == kEmpty || nodes_[slot].key == key) return slot;
  }
}

void TopTalkers::Table::Insert(const Key& key, uint32_t slot) {
  size_t b = Bucket(key);
  while (index_[b] != kEmpty) b = (b + 1) & (index_.size() - 1);
  index_[b] = slot;
}

void TopTalkers::Table::Erase(const Key& key) {
  const size_t mask = index_.size() - 1;
  size_t b = Bucket(key);
  while (index_[b] != kEmpty && !(nodes_[index_[b]].key == key)) b = (b + 1) & mask;
  if (index_[b] == kEmpty) return;
  // Backward shift: move later entries of the run into the hole when their
  // home bucket allows, so lookups never need tombstones.
  size_t hole = b;
  for (size_t next = (hole + 1) & mask; index_[next] != kEmpty; next = (next + 1) & mask) {
    size_t home = Bucket(nodes_[index_[next]].key);
    // Movable when home is not cyclically within (hole, next].
    bool stays = hole <= next ? (home > hole && home <= next) : (home > hole || home <= next);
    if (!stays) {
      index_[hole] = index_[next];
      hole = next;
    }
  }
  index_[hole] = kEmpty;
}

void TopTalkers::Table::Swap(size_t a, size_t b) {
  std::swap(heap_[a], heap_[b]);
  nodes_[heap_[a]].heap_pos = static_cast<uint32_t>(a);
  nodes_[heap_[b]].heap_pos = static_cast<uint32_t>(b);
}

void TopTalkers::Table::SiftDown(size_t i) {
  const size_t n = heap_.size();
  for (;;) {
    size_t smallest = i;
    size_t l = 2 * i + 1;
    size_t r = l + 1;
    if (l < n && CountAt(l) < CountAt(smallest)) smallest = l;
    if (r < n && CountAt(r) < CountAt(smallest)) smallest = r;
    if (smallest == i) return;
    Swap(i, smallest);
    i = smallest;
  }
}

void TopTalkers::Table::Add(const Key& key) {
  uint32_t found = Find(key);
  if (found != kEmpty) {
    Node& node = nodes_[found];
    ++node.c.count;
    SiftDown(node.heap_pos);
    return;
  }
  if (nodes_.size() < capacity_) {
    auto slot = static_cast<uint32_t>(nodes_.size());
    size_t i = heap_.size();
    nodes_.push_back({key, Counted{1, 0}, static_cast<uint32_t>(i)});
    heap_.push_back(slot);
    Insert(key, slot);
    // A new count of 1 moves up past any larger parent.
    while (i > 0 && CountAt((i - 1) / 2) > CountAt(i)) {
      Swap(i, (i - 1) / 2);
      i = (i - 1) / 2;
    }
    return;
  }
  // Full: the smallest count (the root) makes room, and its count carries
  // over as this key's possible error.
  uint32_t slot = heap_[0];
  Node& node = nodes_[slot];
  uint64_t floor = node.c.count;
  Erase(node.key);
  node.key = key;
  node.c = Counted{floor + 1, floor};
  Insert(key, slot);
  SiftDown(0);
}

std::vector<std::pair<TopTalkers::Key, TopTalkers::Counted>> TopTalkers::Table::Top(
    size_t k) const {
  std::vector<std::pair<Key, Counted>> all;
  all.reserve(nodes_.size());
  for (const auto& n : nodes_) all.emplace_back(n.key, n.c);
  auto order = [](const std::pair<Key, Counted>& a, const std::pair<Key, Counted>& b) {
    if (a.second.count != b.second.count) return a.second.count > b.second.count;
    if (a.first.family != b.first.family) return a.first.family < b.first.family;
    if (a.first.hi != b.first.hi) return a.first.hi < b.first.hi;
    return a.first.lo < b.first.lo;
  };
  if (all.size() > k) {
    std::partial_sort(all.begin(), all.begin() + k, all.end(), order);
    all.resize(k);
  } else {
    std::sort(all.begin(), all.end(), order);
  }
  return all;
}

TopTalkers::Ring& TopTalkers::RingOfThisThread() {
  // The common case (the global tracker, a worker thread) is one compare.
  // Keyed by id, not address: a tracker made where a destroyed one was must
  // not find that one's ring.
  thread_local uint64_t cached_id = 0;
  thread_local Ring* cached_ring = nullptr;
  if (cached_id == id_) return *cached_ring;
  std::lock_guard<std::mutex> lock(mu_);
  rings_.push_back(std::make_unique<Ring>());
  cached_id = id_;
  cached_ring = rings_.back().get();
  return *cached_ring;
}

void TopTalkers::Record(const IpAddress& client) {
  if (!enabled_.load(std::memory_order_relaxed)) return;
  Ring& ring = RingOfThisThread();
  uint64_t head = ring.head.load(std::memory_order_relaxed);
  if (head - ring.tail.load(std::memory_order_acquire) >= Ring::kSize) {
    // Nobody drained in time (no admin server, or a flood): count now.
    std::lock_guard<std::mutex> lock(mu_);
    DrainLocked(ring);
  }
  ring.slots[head & (Ring::kSize - 1)] = client;
  ring.head.store(head + 1, std::memory_order_release);
}

void TopTalkers::CountLocked(const IpAddress& client) {
  clients_.Add(ClientKey(client));
  networks_.Add(NetworkKey(client));
}

void TopTalkers::DrainLocked(Ring& ring) {
  uint64_t tail = ring.tail.load(std::memory_order_relaxed);
  uint64_t head = ring.head.load(std::memory_order_acquire);
  for (; tail != head; ++tail) CountLocked(ring.slots[tail & (Ring::kSize - 1)]);
  ring.tail.store(tail, std::memory_order_release);
}

void TopTalkers::DrainAllLocked() {
  for (auto& ring : rings_) DrainLocked(*ring);
}

void TopTalkers::Drain() {
  std::lock_guard<std::mutex> lock(mu_);
  DrainAllLocked();
}

std::vector<TopTalkers::Entry> TopTalkers::TopOf(const Table& t, size_t k, bool network) {
  std::vector<std::pair<Key, Counted>> top;
  {
    std::lock_guard<std::mutex> lock(mu_);
    DrainAllLocked();
    top = t.Top(k);
  }
  std::vector<Entry> out;
  out.reserve(top.size());
  for (const auto& [key, c] : top) out.push_back({Format(key, network), c.count, c.error});
  return out;
}

std::vector<TopTalkers::Entry> TopTalkers::TopClients(size_t k) {
  return TopOf(clients_, k, false);
}

std::vector<TopTalkers::Entry> TopTalkers::TopNetworks(size_t k) {
  return TopOf(networks_, k, true);
}

void TopTalkers::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  DrainAllLocked();
  clients_.Clear();
  networks_.Clear();
}

}  // namespace mxs
