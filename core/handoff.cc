// handoff: backend selection, the PROXY header, and the relay. Log lines
// written here: the hand-off failure warning and its DISCONNECT.
#include "core/handoff.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <array>

#include "core/listener_metrics.h"
#include "core/proxy_header.h"
#include "core/worker.h"

namespace mxs {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

tcp::endpoint ToAsio(const Endpoint& e) {
  return {asio::ip::make_address(e.address.ToString()), e.port};
}

// One direction of the relay: from `src` to `dst`. Small exchanges (the SMTP
// dialogue) are copied through a buffer: one recv and one send each, no
// pipe. A read that fills the whole buffer means bulk data (a large DATA):
// from then on the direction moves bytes with splice(2) through a pipe,
// without copying them through user space.
class Pump {
 public:
  static constexpr size_t kBufferSize = 16384;
  Pump(tcp::socket& src, tcp::socket& dst) : src_(src), dst_(dst) {}
  ~Pump() {
    if (pipe_[0] >= 0) close(pipe_[0]);
    if (pipe_[1] >= 0) close(pipe_[1]);
  }
  bool UsePipe() {
    if (pipe2(pipe_, O_NONBLOCK | O_CLOEXEC) != 0) {
      pipe_[0] = pipe_[1] = -1;
      return false;
    }
    return true;
  }
  bool spliced() const { return pipe_[0] >= 0; }

  tcp::socket& src_;
  tcp::socket& dst_;
  int pipe_[2] = {-1, -1};
  size_t in_pipe_ = 0;              // bytes in the pipe not yet written to dst
  std::unique_ptr<char[]> buffer_;  // allocated on the first bytes, not per idle relay
  bool may_splice_ = false;
  bool done_ = false;
};

class Relay : public std::enable_shared_from_this<Relay> {
 public:
  Relay(Worker& worker, std::shared_ptr<const ListenerConfig> config,
        std::shared_ptr<ListenerState> state, HandoffRequest req)
      : worker_(worker),
        config_(std::move(config)),
        state_(std::move(state)),
        req_(std::move(req)),
        backend_(worker.io()),
        timer_(worker.io()),
        up_(req_.client, backend_),
        down_(backend_, req_.client) {}

  ~Relay() {
    // The session handed its place in mxs_connections_active over.
    config_->metrics->active->Add(-1);
    if (in_post_queue_) state_->post_queue.fetch_sub(1);
    if (relaying_) state_->relayed.fetch_sub(1);
  }

  void Start() {
    if (state_->relayed.load() >= config_->limits.relay_limit ||
        state_->post_queue.load() >= config_->limits.post_queue_limit) {
      Log("NOQUEUE: reject: CONNECT from %s: all server ports busy", req_.client_tag.c_str());
      config_->metrics->Reject("421");
      Fail();
      return;
    }
    state_->post_queue.fetch_add(1);
    in_post_queue_ = true;
    TryBackend(0, false);
  }

 private:
  template <typename... Args>
  void Log(const char* fmt, Args... args) {
    worker_.logger().Logf(config_->program_name, fmt, args...);
  }

  // Tries backends from `index` on; on the first pass skips those in backoff,
  // and when every one is in backoff tries them all anyway rather than refuse.
  void TryBackend(size_t index, bool ignore_backoff) {
    const auto& backends = config_->handoff.backends;
    int64_t now = SteadyNowMs();
    while (index < backends.size() && !ignore_backoff && state_->backends.Skipped(index, now)) {
      failures_ += (failures_.empty() ? "" : ", ") + backends[index].ToString() +
                   " (skipped after a failure)";
      ++index;
    }
    if (index >= backends.size()) {
      if (!ignore_backoff && !tried_any_) {
        failures_.clear();
        TryBackend(0, true);
        return;
      }
      Log("warning: hand-off of %s failed: no backend reachable: %s", req_.client_tag.c_str(),
          failures_.c_str());
      config_->metrics->handoff_failures->Inc();
      config_->metrics->Reject("421");
      Fail();
      return;
    }
    tried_any_ = true;
    error_code ec;
    backend_.close(ec);
    tcp::endpoint ep = ToAsio(backends[index]);
    timer_.expires_after(config_->handoff.connect_timeout);
    auto self = shared_from_this();
    timer_.async_wait([self](const error_code& e) {
      if (!e) {
        self->timed_out_ = true;
        error_code ignored;
        self->backend_.cancel(ignored);
        self->backend_.close(ignored);
      }
    });
    timed_out_ = false;
    backend_.async_connect(ep, [self, index, ignore_backoff](const error_code& e) {
      self->timer_.cancel();
      if (e) {
        std::string why = self->timed_out_ ? "connect timeout" : e.message();
        self->failures_ += (self->failures_.empty() ? "" : ", ") +
                           self->config_->handoff.backends[index].ToString() + " (" + why + ")";
        self->state_->backends.MarkFailed(
            index, SteadyNowMs() + self->config_->handoff.failure_backoff.count() * 1000);
        self->TryBackend(index + 1, ignore_backoff);
        return;
      }
      self->state_->backends.MarkGood(index);
      self->Connected();
    });
  }

  void Fail() {
    const char* reply = req_.teaser_sent ? "421 4.3.2 Service currently unavailable\r\n"
                                         : "421 4.3.2 All server ports are busy\r\n";
    auto self = shared_from_this();
    asio::async_write(req_.client, asio::buffer(reply, std::strlen(reply)),
                      [self](const error_code&, size_t) {
                        self->Log("DISCONNECT %s", self->req_.client_tag.c_str());
                        error_code ec;
                        self->req_.client.close(ec);
                      });
  }

  void Connected() {
    config_->metrics->handoffs->Inc();
    state_->post_queue.fetch_sub(1);
    in_post_queue_ = false;
    state_->relayed.fetch_add(1);
    relaying_ = true;
    error_code ec;
    backend_.set_option(tcp::no_delay(true), ec);
    switch (config_->handoff.proxy) {
      case ProxyVersion::kV2:
        head_ = ProxyV2Header(req_.client_endpoint, req_.server_endpoint);
        break;
      case ProxyVersion::kV1:
        head_ = ProxyV1Header(req_.client_endpoint, req_.server_endpoint);
        break;
      case ProxyVersion::kNone:
        break;
    }
    head_ += req_.pending;
    req_.pending.clear();
    req_.pending.shrink_to_fit();
    auto self = shared_from_this();
    if (head_.empty()) {
      StartPumps();
      return;
    }
    asio::async_write(backend_, asio::buffer(head_), [self](const error_code& e, size_t) {
      self->head_.clear();
      self->head_.shrink_to_fit();
      if (e) {
        self->Abort();
        return;
      }
      self->StartPumps();
    });
  }

  void StartPumps() {
    error_code ec;
    req_.client.non_blocking(true, ec);
    backend_.non_blocking(true, ec);
    // Replies are small and interactive: never let Nagle hold one back.
    req_.client.set_option(tcp::no_delay(true), ec);
    for (Pump* p : {&up_, &down_}) {
      p->may_splice_ = config_->handoff.splice;
      Pump_Read(p);
    }
  }

  // Moves what the source has now; waits for more when it has nothing. A
  // bounded number of rounds per turn keeps one busy relay from starving the
  // worker's other connections.
  void Pump_Read(Pump* p) {
    for (int round = 0; round < 16; ++round) {
      if (aborted_) return;
      if (p->spliced()) {
        ssize_t n = splice(p->src_.native_handle(), nullptr, p->pipe_[1], nullptr, 65536,
                           SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n == 0) return SourceClosed(p);
        if (n < 0) {
          if (errno == EINTR) continue;
          if (errno == EAGAIN) return WaitReadable(p);
          return Abort();
        }
        p->in_pipe_ += static_cast<size_t>(n);
        if (!Pump_Drain(p)) return;  // waiting for dst; Pump_Drain resumes reading
        continue;
      }
      if (!p->buffer_) p->buffer_.reset(new char[Pump::kBufferSize]);
      ssize_t n = recv(p->src_.native_handle(), p->buffer_.get(), Pump::kBufferSize, MSG_DONTWAIT);
      if (n == 0) return SourceClosed(p);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return WaitReadable(p);
        return Abort();
      }
      size_t len = static_cast<size_t>(n);
      if (len == Pump::kBufferSize && p->may_splice_) {
        // Bulk data: later reads go through a pipe (if one can be had).
        p->may_splice_ = false;
        p->UsePipe();
      }
      ssize_t w = send(p->dst_.native_handle(), p->buffer_.get(), len, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return Abort();
      size_t sent = w > 0 ? static_cast<size_t>(w) : 0;
      if (sent < len) {
        auto self = shared_from_this();
        asio::async_write(p->dst_, asio::buffer(p->buffer_.get() + sent, len - sent),
                          [self, p](const error_code& we, size_t) {
                            if (we) return self->Abort();
                            self->Pump_Read(p);
                          });
        return;
      }
    }
    // Still busy after this turn: continue after the worker's other work.
    auto self = shared_from_this();
    asio::post(worker_.io(), [self, p] { self->Pump_Read(p); });
  }

  void WaitReadable(Pump* p) {
    auto self = shared_from_this();
    p->src_.async_wait(tcp::socket::wait_read, [self, p](const error_code& e) {
      if (e) {
        if (e != asio::error::operation_aborted) self->Abort();
        return;
      }
      self->Pump_Read(p);
    });
  }

  // Writes the pipe's bytes to the destination. False when it has to wait for
  // the destination; reading resumes once the pipe is empty.
  bool Pump_Drain(Pump* p) {
    while (p->in_pipe_ > 0) {
      ssize_t n = splice(p->pipe_[0], nullptr, p->dst_.native_handle(), nullptr, p->in_pipe_,
                         SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0) {
        p->in_pipe_ -= static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) {
        auto self = shared_from_this();
        p->dst_.async_wait(tcp::socket::wait_write, [self, p](const error_code& e) {
          if (e) {
            if (e != asio::error::operation_aborted) self->Abort();
            return;
          }
          if (self->Pump_Drain(p)) self->Pump_Read(p);
        });
        return false;
      }
      Abort();
      return false;
    }
    return true;
  }

  // The source sent FIN: pass the half-close on; when both are done, close.
  void SourceClosed(Pump* p) {
    p->done_ = true;
    error_code ec;
    p->dst_.shutdown(tcp::socket::shutdown_send, ec);
    if (up_.done_ && down_.done_) Abort();
  }

  void Abort() {
    if (aborted_) return;
    aborted_ = true;
    error_code ec;
    req_.client.close(ec);
    backend_.close(ec);
  }

  Worker& worker_;
  std::shared_ptr<const ListenerConfig> config_;
  std::shared_ptr<ListenerState> state_;
  HandoffRequest req_;
  tcp::socket backend_;
  asio::steady_timer timer_;
  Pump up_;
  Pump down_;
  std::string head_;
  std::string failures_;
  bool tried_any_ = false;
  bool timed_out_ = false;
  bool in_post_queue_ = false;
  bool relaying_ = false;
  bool aborted_ = false;
};

}  // namespace

void StartHandoff(Worker& worker, std::shared_ptr<const ListenerConfig> config,
                  std::shared_ptr<ListenerState> state, HandoffRequest request) {
  std::make_shared<Relay>(worker, std::move(config), std::move(state), std::move(request))->Start();
}

}  // namespace mxs
