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

TopTalkers::TopTalkers(size_t capacity)
    : clients_(std::max<size_t>(capacity, 1)), networks_(std::max<size_t>(capacity, 1)) {}

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

void TopTalkers::Table::Add(const Key& key) {
  auto it = map_.find(key);
  if (it != map_.end()) {
    ++it->second.count;
    return;
  }
  if (map_.size() < capacity_) {
    map_.emplace(key, Counted{1, 0});
    return;
  }
  // Full: the smallest count makes room and its count carries over as this
  // key's possible error. A linear scan, bounded by capacity, only for keys
  // not tracked already.
  auto min = map_.begin();
  for (auto i = map_.begin(); i != map_.end(); ++i) {
    if (i->second.count < min->second.count) min = i;
  }
  uint64_t floor = min->second.count;
  map_.erase(min);
  map_.emplace(key, Counted{floor + 1, floor});
}

std::vector<std::pair<TopTalkers::Key, TopTalkers::Counted>> TopTalkers::Table::Top(
    size_t k) const {
  std::vector<std::pair<Key, Counted>> all(map_.begin(), map_.end());
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

void TopTalkers::Record(const IpAddress& client) {
  Key c = ClientKey(client);
  Key n = NetworkKey(client);
  std::lock_guard<std::mutex> lock(mu_);
  clients_.Add(c);
  networks_.Add(n);
}

std::vector<TopTalkers::Entry> TopTalkers::TopOf(const Table& t, size_t k, bool network) const {
  std::vector<std::pair<Key, Counted>> top;
  {
    std::lock_guard<std::mutex> lock(mu_);
    top = t.Top(k);
  }
  std::vector<Entry> out;
  out.reserve(top.size());
  for (const auto& [key, c] : top) out.push_back({Format(key, network), c.count, c.error});
  return out;
}

std::vector<TopTalkers::Entry> TopTalkers::TopClients(size_t k) const {
  return TopOf(clients_, k, false);
}

std::vector<TopTalkers::Entry> TopTalkers::TopNetworks(size_t k) const {
  return TopOf(networks_, k, true);
}

void TopTalkers::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  clients_.Clear();
  networks_.Clear();
}

}  // namespace mxs
