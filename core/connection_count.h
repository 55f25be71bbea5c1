// connection_count: a live-connection counter for a worker. A session holds
// one CountedConnection from accept to its end, and its relay another one, so
// a drain (SIGTERM) can tell when a worker's last connection has gone
// without walking the sessions. Kept apart from worker.h so that session.h
// and handoff.cc need not include the worker.
#pragma once

#include <atomic>
#include <cstddef>

namespace mxs {

class CountedConnection {
 public:
  explicit CountedConnection(std::atomic<size_t>& live) : live_(live) {
    live_.fetch_add(1, std::memory_order_relaxed);
  }
  ~CountedConnection() { live_.fetch_sub(1, std::memory_order_release); }
  CountedConnection(const CountedConnection&) = delete;
  CountedConnection& operator=(const CountedConnection&) = delete;

 private:
  std::atomic<size_t>& live_;
};

}  // namespace mxs
