// worker: one thread with its own Boost.Asio event loop. A connection accepted
// by a worker lives on it until it ends (no locks on the hot path); every
// worker has its own acceptor per listener (SO_REUSEPORT), so the kernel
// spreads new connections over the workers.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/dns_resolver.h"
#include "core/gateway_config.h"
#include "core/greet_wait_queue.h"
#include "core/listener_state.h"
#include "core/logger.h"

namespace mxs {

class DnsLookupTable;

// What a worker needs to find the live config of one listener.
class ListenerSource {
 public:
  virtual ~ListenerSource() = default;
  // The newest built config of the listener at `index` (new sessions take it).
  virtual std::shared_ptr<const ListenerConfig> Current(size_t index) const = 0;
  virtual std::shared_ptr<ListenerState> State(size_t index) const = 0;
};

class Worker {
 public:
  Worker(unsigned id, Logger& logger, const ListenerSource& source);
  ~Worker();

  // Opens an acceptor for listener `index` on `address`. Throws
  // std::runtime_error naming the address and reason.
  void Listen(size_t index, const Endpoint& address);
  void Start();
  // Stops accepting and ends the event loop; sessions still open are closed.
  void Stop();
  void Join();

  boost::asio::io_context& io() { return io_; }
  GreetWaitQueue& greet_waits() { return greet_waits_; }
  Logger& logger() { return logger_; }
  unsigned id() const { return id_; }
  // The lookups of this worker's sessions share `table` (in-flight lookups,
  // cached answers) with every other worker. Call before Start().
  void SetDnsTable(std::shared_ptr<DnsLookupTable> table) { dns_table_ = std::move(table); }
  // This worker's resolver, created on first use (a chain without a DNS
  // test never opens one); null without a table. On the worker's thread only.
  DnsResolver* dns_resolver();

 private:
  struct Acceptor {
    size_t index;
    boost::asio::ip::tcp::acceptor acceptor;
  };
  void Accept(Acceptor* a);

  unsigned id_;
  Logger& logger_;
  const ListenerSource& source_;
  boost::asio::io_context io_{1};
  // After io_: destroyed first, releasing the sessions it keeps alive while
  // their sockets' event loop still exists.
  GreetWaitQueue greet_waits_{io_};
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  std::thread thread_;
  std::shared_ptr<DnsLookupTable> dns_table_;
  // Declared after io_, so destroyed before it (its sockets and timer are io_'s).
  std::unique_ptr<DnsResolver> dns_;
};

}  // namespace mxs
