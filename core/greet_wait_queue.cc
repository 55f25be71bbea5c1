// greet_wait_queue: see greet_wait_queue.h.
#include "core/greet_wait_queue.h"

#include <boost/asio/post.hpp>

#include "core/session.h"

namespace mxs {

GreetWaitQueue::GreetWaitQueue(boost::asio::io_context& io) : io_(io), timer_(io) {}

GreetWaitQueue::~GreetWaitQueue() {
  // Sessions still waiting go with the worker; unlink them all before any is
  // destroyed, so that no destructor finds a half-torn list.
  std::vector<std::shared_ptr<Session>> owners;
  for (auto& list : lists_) {
    for (Link* l = list->head; l;) {
      Link* next = l->next;
      l->prev = l->next = nullptr;
      l->list = nullptr;
      owners.push_back(std::move(l->owner));
      l = next;
    }
  }
}

void GreetWaitQueue::Add(Link* link, std::shared_ptr<Session> owner, Clock::duration wait) {
  if (link->list) Unlink(link);
  List* list = nullptr;
  for (auto& l : lists_) {
    if (l->wait == wait) list = l.get();
  }
  if (!list) {
    lists_.push_back(std::make_unique<List>());
    list = lists_.back().get();
    list->wait = wait;
  }
  // The clock never goes back, so appending keeps each list in deadline order.
  link->deadline = Clock::now() + wait;
  link->list = list;
  link->prev = list->tail;
  link->next = nullptr;
  if (list->tail) {
    list->tail->next = link;
  } else {
    list->head = link;
  }
  list->tail = link;
  link->owner = std::move(owner);
  ++size_;
  if (link->deadline < armed_for_) Arm();
}

void GreetWaitQueue::Unlink(Link* link) {
  List* list = link->list;
  (link->prev ? link->prev->next : list->head) = link->next;
  (link->next ? link->next->prev : list->tail) = link->prev;
  link->prev = link->next = nullptr;
  link->list = nullptr;
  --size_;
}

void GreetWaitQueue::Remove(Link* link) {
  if (!link->list) return;
  Unlink(link);
  // Dropping the last reference here would destroy the session inside its
  // own member function.
  if (link->owner.use_count() == 1) {
    boost::asio::post(io_, [doomed = std::move(link->owner)] {});
  } else {
    link->owner.reset();
  }
  // The timer stays armed for a deadline that may be gone: it then finds
  // nothing due and re-arms, which is cheaper than re-arming on every remove.
}

void GreetWaitQueue::Arm() {
  Clock::time_point earliest = Clock::time_point::max();
  for (auto& l : lists_) {
    if (l->head && l->head->deadline < earliest) earliest = l->head->deadline;
  }
  armed_for_ = earliest;
  if (earliest == Clock::time_point::max()) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(earliest);
  timer_.async_wait([this, earliest](const boost::system::error_code& ec) {
    // A wait replaced by an earlier one (or the queue going away) is cancelled.
    if (ec || earliest != armed_for_) return;
    OnTimer();
  });
}

void GreetWaitQueue::OnTimer() {
  // Collect first: ending a greet wait may queue or unqueue other sessions.
  std::vector<std::shared_ptr<Session>> due;
  Clock::time_point now = Clock::now();
  for (auto& list : lists_) {
    while (list->head && list->head->deadline <= now) {
      Link* l = list->head;
      Unlink(l);
      due.push_back(std::move(l->owner));
    }
  }
  armed_for_ = Clock::time_point::max();
  Arm();
  for (auto& s : due) s->OnGreetWaitDeadline();
}

}  // namespace mxs
