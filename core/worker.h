// worker: one thread with its own Boost.Asio event loop. A connection accepted
// by a worker lives on it until it ends (no locks on the hot path); every
// worker has its own acceptor per listener (SO_REUSEPORT), so the kernel
// spreads new connections over the workers. Acceptors come and go while the
// loop runs, when a config change adds, moves or removes a listener.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/asio_session_loop.h"
#include "core/connection_count.h"
#include "core/dns_resolver.h"
#include "core/gateway_config.h"
#include "core/greet_wait_queue.h"
#include "core/listener_state.h"
#include "core/logger.h"

namespace mxs {

class DnsLookupTable;

// One listening address as the workers see it: the newest config of the
// listener (new sessions take it; running sessions keep the one they took)
// and its shared counters. A config change that keeps a listener's address
// updates its slot in place; one that moves the listener makes a new slot.
class ListenerSlot {
 public:
  ListenerSlot(std::shared_ptr<const ListenerConfig> config, std::shared_ptr<ListenerState> state)
      : address_(config->address), config_(std::move(config)), state_(std::move(state)) {}
  const Endpoint& address() const { return address_; }
  std::shared_ptr<const ListenerConfig> config() const {
    std::lock_guard<std::mutex> lock(mu_);
    return config_;
  }
  std::shared_ptr<ListenerState> state() const {
    std::lock_guard<std::mutex> lock(mu_);
    return state_;
  }
  void Update(std::shared_ptr<const ListenerConfig> config, std::shared_ptr<ListenerState> state) {
    std::lock_guard<std::mutex> lock(mu_);
    config_ = std::move(config);
    state_ = std::move(state);
  }

 private:
  const Endpoint address_;
  mutable std::mutex mu_;
  std::shared_ptr<const ListenerConfig> config_;
  std::shared_ptr<ListenerState> state_;
};

class Worker {
 public:
  Worker(unsigned id, Logger& logger);
  ~Worker();

  // Opens (binds) an acceptor for `slot` on the calling thread, so errors
  // surface there; it starts accepting on the worker's loop. Throws
  // std::runtime_error naming the address and reason.
  void Listen(std::shared_ptr<ListenerSlot> slot);
  // Stops accepting for `slot` on the worker's loop: connections already in
  // the kernel's accept queue are accepted (and served) first, then the
  // socket closes. Sessions already running are not touched.
  void Unlisten(std::shared_ptr<ListenerSlot> slot);
  // Unlisten for every slot (a drain starts), and waits until the worker's
  // loop has closed its sockets: connects after this return are refused.
  void StopAccepting();
  void Start();
  // Stops accepting and ends the event loop; sessions still open are closed.
  void Stop();
  void Join();

  boost::asio::io_context& io() { return io_; }
  GreetWaitQueue& greet_waits() { return greet_waits_; }
  Logger& logger() { return logger_; }
  unsigned id() const { return id_; }

  // Live connections (sessions and relays) of this worker: each holds a
  // CountedConnection on it (core/connection_count.h). A hand-off counts
  // twice for a moment; a drain only asks whether any is left.
  std::atomic<size_t>& live_connections() { return connections_; }
  size_t connections() const { return connections_.load(std::memory_order_acquire); }
  // The lookups of this worker's sessions share `table` (in-flight lookups,
  // cached answers) with every other worker. Call before Start().
  void SetDnsTable(std::shared_ptr<DnsLookupTable> table) { dns_table_ = std::move(table); }
  // This worker's resolver, created on first use (a chain without a DNS
  // test never opens one); null without a table. On the worker's thread only.
  DnsResolver* dns_resolver();
  // Posts and timers on this worker's loop, for filters (core/filter.h).
  SessionLoop& session_loop() { return session_loop_; }

 private:
  struct Acceptor {
    std::shared_ptr<ListenerSlot> slot;
    boost::asio::ip::tcp::acceptor acceptor;
  };
  void Accept(std::shared_ptr<Acceptor> a);
  void StartSession(const Acceptor& a, boost::asio::ip::tcp::socket socket);
  // Serves what waits in the accept queue, then closes the socket.
  void CloseAcceptor(Acceptor& a);

  unsigned id_;
  Logger& logger_;
  // Before io_: the sessions and relays that io_'s handlers still hold when
  // it is destroyed count down on it.
  std::atomic<size_t> connections_{0};
  boost::asio::io_context io_{1};
  // Before greet_waits_: outlives the sessions that queue releases.
  AsioSessionLoop session_loop_{io_};
  // After io_: destroyed first, releasing the sessions it keeps alive while
  // their sockets' event loop still exists.
  GreetWaitQueue greet_waits_{io_};
  // Owned by the loop's thread once started (Listen/Unlisten post to it).
  std::vector<std::shared_ptr<Acceptor>> acceptors_;
  std::atomic<bool> started_{false};
  std::thread thread_;
  std::shared_ptr<DnsLookupTable> dns_table_;
  // Declared after io_, so destroyed before it (its sockets and timer are io_'s).
  std::unique_ptr<DnsResolver> dns_;
};

}  // namespace mxs
