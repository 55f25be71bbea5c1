// ares_resolver: c-ares on a worker's Asio event loop, and the process-wide
// table that shares lookups and caches answers (see ares_resolver.h).
//
// Threads: a worker's AresResolver and its c-ares channel are used on that
// worker's thread only. The DnsLookupTable is shared by every worker under one
// mutex, held only to look up or change an entry (never across a c-ares call
// or a callback). An answer found on worker A for a session on worker B is
// posted to B's event loop, so every callback runs on its own session's thread.
//
// Lifetimes: the table refers to an asker only through a weak_ptr, and the
// asker's DnsLookup handle owns it; a session that ends drops its handles and
// is never called back. A lookup whose channel is destroyed (shutdown) is
// dropped without delivering anything: askers on other workers see their own
// deadline expire instead of touching a dying event loop.
#include "core/ares_resolver.h"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/time.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>

namespace mxs {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kClassIn = 1;
constexpr int kTypeA = 1;
// Answers are never kept longer than this, whatever their TTL says.
constexpr uint32_t kMaxCacheTtl = 86400;

// One asker of a lookup; owned by the DnsLookup handle it was given.
struct Waiter {
  Waiter(asio::io_context& io, DnsCallback cb) : timer(io), done(std::move(cb)) {}
  // Delivers once, on the asker's thread. The caller holds a strong
  // reference: the callback may drop the handle.
  void Finish(const DnsAnswer& answer) {
    if (finished) return;
    finished = true;
    timer.cancel();
    DnsCallback cb = std::move(done);
    cb(answer);
  }
  asio::steady_timer timer;  // the asker's own deadline
  DnsCallback done;
  bool finished = false;
};

class Handle : public DnsLookup {
 public:
  explicit Handle(std::shared_ptr<Waiter> w) : w_(std::move(w)) {}
  ~Handle() override {
    // Cancelled: whatever is still posted or armed finds `finished`.
    w_->finished = true;
    w_->timer.cancel();
  }

 private:
  std::shared_ptr<Waiter> w_;
};

struct WaiterRef {
  asio::io_context* io;
  std::weak_ptr<Waiter> waiter;
};

void Deliver(const WaiterRef& ref, std::shared_ptr<const DnsAnswer> answer) {
  asio::post(*ref.io, [w = ref.waiter, answer = std::move(answer)] {
    if (auto s = w.lock()) s->Finish(*answer);
  });
}

}  // namespace

class DnsLookupTable {
 public:
  explicit DnsLookupTable(DnsResolverOptions o) : options(std::move(o)) {}

  struct Entry {
    bool in_flight = true;
    Clock::time_point expires;
    std::shared_ptr<const DnsAnswer> answer;
    std::vector<WaiterRef> waiters;
  };
  enum class Join : uint8_t { kCached, kJoined, kStart };

  // Registers `ref` for `name`: answered from the cache (*cached set),
  // joined to a lookup in flight, or the caller must start the lookup.
  Join Ask(const std::string& name, const WaiterRef& ref,
           std::shared_ptr<const DnsAnswer>* cached) {
    std::lock_guard<std::mutex> lock(mu);
    auto now = Clock::now();
    auto it = entries.find(name);
    if (it != entries.end() && !it->second.in_flight) {
      if (now < it->second.expires) {
        // The TTL the asker sees is what is left of it.
        auto left = std::chrono::duration_cast<std::chrono::seconds>(it->second.expires - now);
        auto copy = std::make_shared<DnsAnswer>(*it->second.answer);
        copy->ttl = static_cast<uint32_t>(std::max<int64_t>(1, left.count()));
        *cached = std::move(copy);
        ++hits;
        return Join::kCached;
      }
      entries.erase(it);
      it = entries.end();
    }
    if (it != entries.end()) {
      it->second.waiters.push_back(ref);
      ++joined;
      return Join::kJoined;
    }
    Trim(now);
    entries[name].waiters.push_back(ref);
    ++sent;
    return Join::kStart;
  }

  // The lookup of `name` ended: caches what may be cached and returns the
  // askers to deliver to.
  std::vector<WaiterRef> Complete(const std::string& name,
                                  const std::shared_ptr<const DnsAnswer>& answer) {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<WaiterRef> out;
    auto it = entries.find(name);
    if (it == entries.end()) return out;
    out.swap(it->second.waiters);
    bool cacheable = answer && answer->ttl_known && answer->ttl > 0 &&
                     (answer->status == DnsAnswer::Status::kFound ||
                      answer->status == DnsAnswer::Status::kNotFound);
    if (cacheable) {
      it->second.in_flight = false;
      it->second.answer = answer;
      it->second.expires = Clock::now() + std::chrono::seconds(std::min(answer->ttl, kMaxCacheTtl));
    } else {
      entries.erase(it);
    }
    return out;
  }

  const DnsResolverOptions options;
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> joined{0};
  std::atomic<uint64_t> hits{0};

 private:
  // Keeps the cache bounded: expired answers go first, then all answers
  // (lookups in flight stay: they have askers).
  void Trim(Clock::time_point now) {
    if (entries.size() < options.cache_size) return;
    for (auto it = entries.begin(); it != entries.end();) {
      it = !it->second.in_flight && it->second.expires <= now ? entries.erase(it) : std::next(it);
    }
    if (entries.size() < options.cache_size) return;
    for (auto it = entries.begin(); it != entries.end();) {
      it = !it->second.in_flight ? entries.erase(it) : std::next(it);
    }
  }

  std::mutex mu;
  std::unordered_map<std::string, Entry> entries;
};

std::shared_ptr<DnsLookupTable> MakeDnsLookupTable(const DnsResolverOptions& options) {
  return std::make_shared<DnsLookupTable>(options);
}

DnsLookupStats GetDnsLookupStats(const DnsLookupTable& t) {
  return {t.sent.load(), t.joined.load(), t.hits.load()};
}

namespace {

class AresResolver : public DnsResolver {
 public:
  AresResolver(asio::io_context& io, std::shared_ptr<DnsLookupTable> table)
      : io_(io), table_(std::move(table)), timer_(io) {
    static std::once_flag once;
    std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
    const DnsResolverOptions& o = table_->options;
    ares_options opts{};
    opts.sock_state_cb = &AresResolver::SockStateCb;
    opts.sock_state_cb_data = this;
    opts.timeout = static_cast<int>(o.try_timeout.count());
    opts.tries = o.tries;
    // Keep the UDP sockets between queries: a busy gateway asks all the time.
    opts.flags = ARES_FLAG_STAYOPEN;
    int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS;
    int rc = ares_init_options(&channel_, &opts, mask);
    if (rc != ARES_SUCCESS) {
      channel_ = nullptr;
      init_error_ = std::string("resolver initialisation failed: ") + ares_strerror(rc);
      return;
    }
    if (!o.nameservers.empty()) {
      std::vector<ares_addr_port_node> nodes(o.nameservers.size());
      for (size_t i = 0; i < nodes.size(); ++i) {
        const Endpoint& e = o.nameservers[i];
        ares_addr_port_node& n = nodes[i];
        n.next = i + 1 < nodes.size() ? &nodes[i + 1] : nullptr;
        n.family = e.address.is_v4() ? AF_INET : AF_INET6;
        if (e.address.is_v4()) {
          std::memcpy(&n.addr.addr4, e.address.bytes().data(), 4);
        } else {
          std::memcpy(&n.addr.addr6, e.address.bytes().data(), 16);
        }
        n.udp_port = e.port;
        n.tcp_port = e.port;
      }
      rc = ares_set_servers_ports(channel_, nodes.data());
      if (rc != ARES_SUCCESS) {
        init_error_ = std::string("setting the nameservers failed: ") + ares_strerror(rc);
      }
    }
  }

  ~AresResolver() override {
    // Pending queries end with ARES_EDESTRUCTION (dropped, see QueryDone);
    // sockets are reported closed, which releases their descriptors.
    if (channel_) ares_destroy(channel_);
    for (auto& [fd, s] : socks_) Release(*s);
    socks_.clear();
    timer_.cancel();
  }

  std::unique_ptr<DnsLookup> LookupA(const std::string& name, std::chrono::milliseconds timeout,
                                     DnsCallback done) override {
    auto w = std::make_shared<Waiter>(io_, std::move(done));
    w->timer.expires_after(timeout);
    w->timer.async_wait([weak = std::weak_ptr<Waiter>(w)](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto s = weak.lock()) {
        DnsAnswer a;
        a.status = DnsAnswer::Status::kTimeout;
        a.error = "timed out";
        s->Finish(a);
      }
    });
    WaiterRef ref{&io_, w};
    std::shared_ptr<const DnsAnswer> cached;
    switch (table_->Ask(name, ref, &cached)) {
      case DnsLookupTable::Join::kCached:
        Deliver(ref, std::move(cached));
        break;
      case DnsLookupTable::Join::kJoined:
        break;
      case DnsLookupTable::Join::kStart:
        Send(name);
        break;
    }
    return std::make_unique<Handle>(std::move(w));
  }

 private:
  struct Sock {
    Sock(asio::io_context& io, int fd) : sd(io, fd), fd(fd) {}
    asio::posix::stream_descriptor sd;  // does not own fd: c-ares closes it
    int fd;
    bool want_read = false;
    bool want_write = false;
    bool reading = false;
    bool writing = false;
    bool closed = false;
  };
  struct Query {
    AresResolver* self;
    std::string name;
  };

  void Send(const std::string& name) {
    if (!channel_ || !init_error_.empty()) {
      auto a = std::make_shared<DnsAnswer>();
      a->error = init_error_;
      Finish(name, std::move(a));
      return;
    }
    // May call QueryDone at once (a bad name); that only posts.
    ares_query(channel_, name.c_str(), kClassIn, kTypeA, &AresResolver::QueryDone,
               new Query{this, name});
    ArmTimer();
  }

  static void QueryDone(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
    std::unique_ptr<Query> q(static_cast<Query*>(arg));
    if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) {
      // Shutdown: drop the entry, deliver nothing (see the file comment).
      q->self->table_->Complete(q->name, nullptr);
      return;
    }
    q->self->Finish(q->name, std::make_shared<DnsAnswer>(ParseDnsAnswer(status, abuf, alen)));
  }

  void Finish(const std::string& name, std::shared_ptr<const DnsAnswer> answer) {
    for (const auto& ref : table_->Complete(name, answer)) Deliver(ref, answer);
  }

  static void SockStateCb(void* data, ares_socket_t fd, int readable, int writable) {
    static_cast<AresResolver*>(data)->OnSockState(fd, readable != 0, writable != 0);
  }

  void OnSockState(int fd, bool readable, bool writable) {
    auto it = socks_.find(fd);
    if (!readable && !writable) {
      // c-ares is about to close fd: stop watching it first.
      if (it != socks_.end()) {
        Release(*it->second);
        socks_.erase(it);
      }
      return;
    }
    if (it == socks_.end()) it = socks_.emplace(fd, std::make_shared<Sock>(io_, fd)).first;
    it->second->want_read = readable;
    it->second->want_write = writable;
    Arm(it->second);
  }

  static void Release(Sock& s) {
    s.closed = true;
    boost::system::error_code ec;
    s.sd.cancel(ec);
    s.sd.release();
  }

  void Arm(const std::shared_ptr<Sock>& s) {
    if (s->closed) return;
    if (s->want_read && !s->reading) {
      s->reading = true;
      s->sd.async_wait(asio::posix::stream_descriptor::wait_read,
                       [this, s](const boost::system::error_code& ec) {
                         s->reading = false;
                         if (ec || s->closed) return;
                         ares_process_fd(channel_, s->fd, ARES_SOCKET_BAD);
                         Arm(s);
                         ArmTimer();
                       });
    }
    if (s->want_write && !s->writing) {
      s->writing = true;
      s->sd.async_wait(asio::posix::stream_descriptor::wait_write,
                       [this, s](const boost::system::error_code& ec) {
                         s->writing = false;
                         if (ec || s->closed) return;
                         ares_process_fd(channel_, ARES_SOCKET_BAD, s->fd);
                         Arm(s);
                         ArmTimer();
                       });
    }
  }

  // One timer for c-ares' own retransmissions and per-try timeouts.
  void ArmTimer() {
    timeval tv{};
    if (!ares_timeout(channel_, nullptr, &tv)) {
      timer_.cancel();
      return;
    }
    timer_.expires_after(std::chrono::milliseconds(tv.tv_sec * 1000 + tv.tv_usec / 1000 + 1));
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      ArmTimer();
    });
  }

  asio::io_context& io_;
  std::shared_ptr<DnsLookupTable> table_;
  asio::steady_timer timer_;
  ares_channel channel_ = nullptr;
  std::string init_error_;
  std::unordered_map<int, std::shared_ptr<Sock>> socks_;
};

}  // namespace

std::unique_ptr<DnsResolver> MakeAresResolver(asio::io_context& io,
                                              std::shared_ptr<DnsLookupTable> table) {
  return std::make_unique<AresResolver>(io, std::move(table));
}

}  // namespace mxs
