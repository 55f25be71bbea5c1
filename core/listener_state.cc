// listener_state: the sharded per-client connection counts.
#include "core/listener_state.h"

#include <cstring>

namespace mxs {

size_t ClientCounts::Hash::operator()(const IpAddress& a) const {
  // FNV-1a over the address bytes; the family is implied by the length used.
  size_t h = 1469598103934665603ull;
  const auto& b = a.bytes();
  size_t n = a.is_v4() ? 4 : 16;
  for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  return h;
}

ClientCounts::Shard& ClientCounts::ShardFor(const IpAddress& addr) {
  return shards_[Hash{}(addr) % shards_.size()];
}

bool ClientCounts::TryAcquire(const IpAddress& addr, uint32_t limit) {
  Shard& s = ShardFor(addr);
  std::lock_guard<std::mutex> lock(s.mu);
  uint32_t& c = s.counts[addr];
  if (c >= limit) {
    if (c == 0) s.counts.erase(addr);
    return false;
  }
  ++c;
  return true;
}

void ClientCounts::Release(const IpAddress& addr) {
  Shard& s = ShardFor(addr);
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.counts.find(addr);
  if (it == s.counts.end()) return;
  if (--it->second == 0) s.counts.erase(it);
}

uint32_t ClientCounts::Count(const IpAddress& addr) {
  Shard& s = ShardFor(addr);
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.counts.find(addr);
  return it == s.counts.end() ? 0 : it->second;
}

int ListenerState::UpdateStress(uint32_t n, uint32_t limit) {
  // postscreen's watermarks: hiwat 90% and lowat 70% of the pre-queue limit.
  uint32_t hiwat = limit * 9 / 10;
  uint32_t lowat = limit * 7 / 10;
  bool on = stress.load(std::memory_order_relaxed);
  if (!on && n >= hiwat) {
    bool expected = false;
    if (stress.compare_exchange_strong(expected, true)) return +1;
  } else if (on && n <= lowat) {
    bool expected = true;
    if (stress.compare_exchange_strong(expected, false)) return -1;
  }
  return 0;
}

int64_t SteadyNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace mxs
