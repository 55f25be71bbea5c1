// asio_session_loop: posts and one-shot timers on a worker's io_context.
#include "core/asio_session_loop.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace mxs {
namespace {

// The timer's handler may run after the handle is gone (cancelled, queued):
// it owns the function and is told through `live` whether to call it.
class AsioTimer : public SessionLoop::Timer {
 public:
  AsioTimer(boost::asio::io_context& io, std::chrono::milliseconds delay, std::function<void()> fn)
      : timer_(io, delay), live_(std::make_shared<bool>(true)) {
    timer_.async_wait([live = live_, fn = std::move(fn)](const boost::system::error_code& ec) {
      if (!ec && *live) fn();
    });
  }
  ~AsioTimer() override {
    *live_ = false;
    timer_.cancel();
  }

 private:
  boost::asio::steady_timer timer_;
  std::shared_ptr<bool> live_;
};

}  // namespace

void AsioSessionLoop::Post(std::function<void()> fn) { boost::asio::post(io_, std::move(fn)); }

std::unique_ptr<SessionLoop::Timer> AsioSessionLoop::After(std::chrono::milliseconds delay,
                                                           std::function<void()> fn) {
  return std::make_unique<AsioTimer>(io_, delay, std::move(fn));
}

}  // namespace mxs
