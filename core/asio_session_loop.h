// asio_session_loop: SessionLoop (core/filter.h) on a worker's Boost.Asio
// io_context, so filter.h stays free of Asio. One per worker.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "core/filter.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace mxs {

class AsioSessionLoop : public SessionLoop {
 public:
  explicit AsioSessionLoop(boost::asio::io_context& io) : io_(io) {}
  void Post(std::function<void()> fn) override;
  std::unique_ptr<Timer> After(std::chrono::milliseconds delay, std::function<void()> fn) override;

 private:
  boost::asio::io_context& io_;
};

}  // namespace mxs
