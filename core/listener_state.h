// listener_state: the counters one listener shares across all workers and
// across config reloads: connections per client address, clients under test
// (pre-queue), hand-offs still connecting (post-queue), relayed sessions, and
// which backends recently failed. Everything here is lock-free or sharded,
// because every connection touches it.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/ip_address.h"

namespace mxs {

// Connections per client address (postscreen_client_connection_count_limit).
class ClientCounts {
 public:
  // Counts one more connection from addr unless that exceeds limit.
  bool TryAcquire(const IpAddress& addr, uint32_t limit);
  void Release(const IpAddress& addr);
  uint32_t Count(const IpAddress& addr);

 private:
  struct Hash {
    size_t operator()(const IpAddress& a) const;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<IpAddress, uint32_t, Hash> counts;
  };
  Shard& ShardFor(const IpAddress& addr);
  std::array<Shard, 16> shards_;
};

// Backend health: a backend that failed is skipped until its backoff ends.
class BackendHealth {
 public:
  explicit BackendHealth(size_t count) : skip_until_ms_(count) {}
  size_t size() const { return skip_until_ms_.size(); }
  bool Skipped(size_t index, int64_t now_ms) const {
    return index < skip_until_ms_.size() && skip_until_ms_[index].load() > now_ms;
  }
  void MarkFailed(size_t index, int64_t until_ms) {
    if (index < skip_until_ms_.size()) skip_until_ms_[index].store(until_ms);
  }
  void MarkGood(size_t index) {
    if (index < skip_until_ms_.size()) skip_until_ms_[index].store(0);
  }

 private:
  std::vector<std::atomic<int64_t>> skip_until_ms_;
};

class VerdictStore;

struct ListenerState {
  explicit ListenerState(size_t backend_count) : backends(backend_count) {}
  // Stress mode (postscreen): on at 90% of the pre-queue limit, off at 70%.
  // Returns +1 when it just turned on, -1 when it just turned off, else 0.
  int UpdateStress(uint32_t under_test_now, uint32_t pre_queue_limit);
  std::atomic<bool> stress{false};
  // The listener's verdict store; null when the config names none.
  std::shared_ptr<VerdictStore> store;
  ClientCounts clients;
  std::atomic<uint32_t> under_test{0};  // pre-queue: sessions being screened
  std::atomic<uint32_t> post_queue{0};  // hand-offs still connecting to a backend
  std::atomic<uint32_t> relayed{0};     // handed-off sessions being relayed
  BackendHealth backends;
};

int64_t SteadyNowMs();

}  // namespace mxs
