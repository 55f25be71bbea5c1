// worker: acceptors and the event-loop thread.
#include "core/worker.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cerrno>
#include <future>

#include "core/ares_resolver.h"
#include "core/session.h"

namespace mxs {

namespace asio = boost::asio;
using asio::ip::tcp;

Worker::Worker(unsigned id, Logger& logger) : id_(id), logger_(logger) {}

Worker::~Worker() {
  Stop();
  Join();
}

void Worker::Listen(std::shared_ptr<ListenerSlot> slot) {
  const Endpoint address = slot->address();
  auto a = std::make_shared<Acceptor>(Acceptor{std::move(slot), tcp::acceptor(io_)});
  tcp::endpoint ep(asio::ip::make_address(address.address.ToString()), address.port);
  boost::system::error_code ec;
  a->acceptor.open(ep.protocol(), ec);
  if (!ec) a->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) {
    int one = 1;
    if (setsockopt(a->acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
      ec.assign(errno, boost::system::system_category());
    }
  }
  if (!ec) a->acceptor.bind(ep, ec);
  if (!ec) a->acceptor.listen(1024, ec);
  if (ec) throw std::runtime_error("cannot listen on " + address.ToString() + ": " + ec.message());
  if (!started_) {
    acceptors_.push_back(std::move(a));
    return;
  }
  asio::post(io_, [this, a] {
    acceptors_.push_back(a);
    Accept(a);
  });
}

void Worker::CloseAcceptor(Acceptor& a) {
  // Closing a listening socket resets the connections in its accept queue;
  // take them first, so moving a listener or draining drops nobody who
  // connected before.
  for (;;) {
    int fd = accept4(a.acceptor.native_handle(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      // A client that gave up while queued, or a signal: go on.
      if (errno == ECONNABORTED || errno == EINTR) continue;
      break;  // EAGAIN: the queue is empty
    }
    boost::system::error_code ec;
    tcp::socket socket(io_);
    socket.assign(a.acceptor.local_endpoint(ec).protocol(), fd, ec);
    if (ec) {
      ::close(fd);
      continue;
    }
    StartSession(a, std::move(socket));
  }
  boost::system::error_code ec;
  a.acceptor.close(ec);
}

void Worker::Unlisten(std::shared_ptr<ListenerSlot> slot) {
  asio::post(io_, [this, slot] {
    for (auto it = acceptors_.begin(); it != acceptors_.end();) {
      if ((*it)->slot != slot) {
        ++it;
        continue;
      }
      CloseAcceptor(**it);
      it = acceptors_.erase(it);
    }
  });
}

void Worker::StopAccepting() {
  if (!started_) {
    for (auto& a : acceptors_) {
      boost::system::error_code ec;
      a->acceptor.close(ec);
    }
    acceptors_.clear();
    return;
  }
  std::promise<void> done;
  auto closed = done.get_future();
  asio::post(io_, [this, &done] {
    for (auto& a : acceptors_) CloseAcceptor(*a);
    acceptors_.clear();
    done.set_value();
  });
  closed.wait();
}

void Worker::Start() {
  started_ = true;
  for (auto& a : acceptors_) Accept(a);
  thread_ = std::thread([this] { io_.run(); });
}

void Worker::StartSession(const Acceptor& a, tcp::socket socket) {
  auto session =
      std::make_shared<Session>(*this, a.slot->config(), a.slot->state(), std::move(socket));
  session->Start();
}

void Worker::Accept(std::shared_ptr<Acceptor> a) {
  a->acceptor.async_accept([this, a](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !a->acceptor.is_open()) return;
    if (!ec) {
      StartSession(*a, std::move(socket));
    } else if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
               ec == asio::error::no_memory || ec.value() == ENFILE) {
      // Out of descriptors or memory: back off briefly instead of spinning.
      logger_.Logf("mxscreen", "warning: accept: %s", ec.message().c_str());
      auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(100));
      timer->async_wait([this, a, timer](const boost::system::error_code&) { Accept(a); });
      return;
    }
    Accept(a);
  });
}

void Worker::Stop() {
  asio::post(io_, [this] {
    for (auto& a : acceptors_) {
      boost::system::error_code ec;
      a->acceptor.close(ec);
    }
    io_.stop();
  });
}

DnsResolver* Worker::dns_resolver() {
  if (!dns_ && dns_table_) dns_ = MakeAresResolver(io_, dns_table_);
  return dns_.get();
}

void Worker::Join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace mxs
