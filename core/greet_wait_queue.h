// greet_wait_queue: the greet-wait deadlines of one worker's sessions, kept
// in one timer. The greet wait is where idle connections pile up (thousands
// at once in a bot wave), and a Boost.Asio timer per session costs about 250
// bytes there (the timer object, its pending wait operation and its entry in
// the timer heap). Greet waits have few distinct lengths (greet_wait and
// greet_wait_stress of each listener), and waits of one length end in the
// order they started, so one FIFO list per length, with a single timer armed
// for the earliest head, keeps every deadline in order at O(1) per add and
// remove, with the list links inside the session.
//
// A queued session is kept alive by its link (as a pending timer wait would
// keep it); Remove and firing release it. One worker's thread only.
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <vector>

namespace mxs {

class Session;

class GreetWaitQueue {
 public:
  using Clock = std::chrono::steady_clock;
  struct List;

  // A session's place in the queue (a member of Session).
  struct Link {
    Link* prev = nullptr;
    Link* next = nullptr;
    List* list = nullptr;  // nullptr: not queued
    Clock::time_point deadline;
    std::shared_ptr<Session> owner;
  };

  explicit GreetWaitQueue(boost::asio::io_context& io);
  ~GreetWaitQueue();
  GreetWaitQueue(const GreetWaitQueue&) = delete;
  GreetWaitQueue& operator=(const GreetWaitQueue&) = delete;

  // Queues `owner` (whose member `link` is) to have OnGreetWaitDeadline()
  // called `wait` from now. A link already queued is moved.
  void Add(Link* link, std::shared_ptr<Session> owner, Clock::duration wait);
  // Unqueues; nothing happens for a link not queued. The session's last
  // reference, if the link held it, is released from the event loop later,
  // never inside this call: the caller is usually the session itself.
  void Remove(Link* link);
  size_t size() const { return size_; }

  // One per distinct wait length, in deadline order.
  struct List {
    Clock::duration wait;
    Link* head = nullptr;
    Link* tail = nullptr;
  };

 private:
  void Unlink(Link* link);
  void Arm();
  void OnTimer();

  boost::asio::io_context& io_;
  boost::asio::steady_timer timer_;
  Clock::time_point armed_for_ = Clock::time_point::max();
  std::vector<std::unique_ptr<List>> lists_;
  size_t size_ = 0;
};

}  // namespace mxs
