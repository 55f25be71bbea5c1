// session: the connection flow of spec section 1 and the verdict/action logic
// of section 6. Every log line a session writes comes from here, from the
// engine (smtp_engine.cc), from the hand-off (handoff.cc) or from a filter.
#include "core/session.h"

#include <boost/asio/write.hpp>

#include <cstdarg>
#include <cstdio>

#include "core/handoff.h"
#include "core/worker.h"

namespace mxs {

namespace asio = boost::asio;
using asio::ip::tcp;

Session::Session(Worker& worker, std::shared_ptr<const ListenerConfig> config,
                 std::shared_ptr<ListenerState> state, tcp::socket socket)
    : worker_(worker),
      config_(std::move(config)),
      state_(std::move(state)),
      socket_(std::move(socket)),
      timer_(worker.io()),
      started_(std::chrono::steady_clock::now()) {}

double Session::SecondsSinceConnect() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

Session::~Session() {
  ReleaseScreeningSlots();
  for (auto& s : slots_) {
    if (s.filter) s.filter->OnSessionEnd(*this);
  }
}

void Session::Log(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  worker_.logger().VLogf(config_->program_name, fmt, ap);
  va_end(ap);
}

void Session::Start() {
  sockaddr_storage peer{};
  sockaddr_storage local{};
  socklen_t plen = sizeof peer;
  socklen_t llen = sizeof local;
  int fd = socket_.native_handle();
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &plen) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&local), &llen) != 0) {
    // The client is already gone; nothing to screen or log.
    return;
  }
  auto port_of = [](const sockaddr_storage& ss) -> uint16_t {
    if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(ss).sin_port);
    return ntohs(reinterpret_cast<const sockaddr_in6&>(ss).sin6_port);
  };
  auto peer_ip = IpAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&peer));
  auto local_ip = IpAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&local));
  if (!peer_ip || !local_ip) return;
  client_ = {*peer_ip, port_of(peer)};
  server_ = {*local_ip, port_of(local)};
  ConnectPhase();
}

void Session::ConnectPhase() {
  std::snprintf(client_tag_, sizeof client_tag_, "[%s]:%u", client_.address.ToString().c_str(),
                client_.port);
  Log("CONNECT from %s to [%s]:%u", client_tag_, server_.address.ToString().c_str(), server_.port);

  const LimitsConfig& limits = config_->limits;
  if (!state_->clients.TryAcquire(client_.address, limits.client_connection_count_limit)) {
    Log("NOQUEUE: reject: CONNECT from %s: too many connections", client_tag_);
    ReplyAndClose("421 4.7.0 Error: too many connections\r\n");
    return;
  }
  client_counted_ = true;
  if (state_->post_queue.load() >= limits.post_queue_limit) {
    Log("NOQUEUE: reject: CONNECT from %s: all server ports busy", client_tag_);
    ReplyAndClose("421 4.3.2 All server ports are busy\r\n");
    return;
  }

  slots_.resize(config_->chain.size());
  for (size_t i = 0; i < slots_.size(); ++i) slots_[i].filter = config_->chain[i].factory->Create();

  // Connect hooks run in chain order; the first allow or drop ends the phase.
  for (size_t i = 0; i < slots_.size(); ++i) {
    Outcome o = Apply(i, slots_[i].filter->OnConnect(*this));
    if (o == Outcome::kAllow) {
      HandOff();
      return;
    }
    if (o == Outcome::kDropped) return;
  }

  // Postfix counts this client before comparing: a limit of N holds N-1.
  if (state_->under_test.load() + 1 >= limits.pre_queue_limit) {
    Log("reject: connect from %s: all screening ports busy", client_tag_);
    ReplyAndClose("421 4.3.2 All screening ports are busy\r\n");
    return;
  }
  state_->under_test.fetch_add(1);
  under_test_ = true;
  AfterEarlyTests();
}

Session::Outcome Session::Apply(size_t i, Verdict v) {
  const ChainEntry& entry = config_->chain[i];
  switch (v.kind) {
    case Verdict::Kind::kContinue:
      return Outcome::kGoOn;
    case Verdict::Kind::kPending:
      slots_[i].state = TestState::kPending;
      return Outcome::kGoOn;
    case Verdict::Kind::kPass:
      PassTest(i);
      return Outcome::kGoOn;
    case Verdict::Kind::kAllow:
      return Outcome::kAllow;
    case Verdict::Kind::kAllowOthers:
      PassTest(i);
      for (size_t j = 0; j < slots_.size(); ++j) {
        if (j != i && config_->chain[j].traits.cached && slots_[j].state != TestState::kFailed) {
          PassTest(j);
        }
      }
      return Outcome::kGoOn;
    case Verdict::Kind::kFail:
    case Verdict::Kind::kDeny:
      FailTest(i);
      switch (entry.action) {
        case Action::kIgnore:
          // Logged by the filter; not acted on, and the test repeats next time.
          return Outcome::kGoOn;
        case Action::kEnforce:
          enforced_reply_ = "550 " + v.reply;
          return Outcome::kGoOn;
        case Action::kDrop:
          ReplyAndClose("521 " + (v.drop_reply.empty() ? v.reply : v.drop_reply) + "\r\n");
          return Outcome::kDropped;
      }
  }
  return Outcome::kGoOn;
}

void Session::PassTest(size_t i) {
  if (slots_[i].state != TestState::kFailed) slots_[i].state = TestState::kPassed;
}

void Session::FailTest(size_t i) { slots_[i].state = TestState::kFailed; }

void Session::Resume(const void* filter, Verdict verdict) {
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].filter.get() != filter || slots_[i].state != TestState::kPending) continue;
    slots_[i].state = TestState::kTodo;
    Outcome o = Apply(i, std::move(verdict));
    if (o == Outcome::kAllow) HandOff();
    return;
  }
}

// The tests before the greeting are done (none exist without the screening
// filters): decide between the engine and the hand-off.
void Session::AfterEarlyTests() {
  bool engine_needed = !enforced_reply_.empty();
  bool any_cached = false;
  bool all_passed = true;
  for (size_t i = 0; i < slots_.size(); ++i) {
    const ChainEntry& e = config_->chain[i];
    if (!e.traits.cached) continue;
    any_cached = true;
    if (slots_[i].state != TestState::kPassed) all_passed = false;
    if (e.traits.needs_engine && slots_[i].state == TestState::kTodo) engine_needed = true;
  }
  if (engine_needed) {
    StartEngine();
    return;
  }
  // postscreen writes PASS NEW only when there were tests to pass: with every
  // test disabled, a client is handed off after CONNECT alone. A failure under
  // `ignore` is not acted on, but it is no pass either.
  if (any_cached && all_passed) Log("PASS NEW %s", client_tag_);
  HandOff();
}

void Session::StartEngine() {
  engine_.emplace(config_->engine, config_->hostname, *this);
  Send("220 " + config_->banner + "\r\n", false);
  ReadCommands();
}

void Session::ArmCommandTimer() {
  timer_.expires_after(config_->engine.command_time_limit);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->OnCommandTimeout();
  });
}

void Session::OnCommandTimeout() {
  if (closed_) return;
  std::string out;
  engine_->OnTimeout(&out);
  ReplyAndClose(std::move(out));
}

void Session::ReadCommands() {
  if (closed_) return;
  ArmCommandTimer();
  if (in_.capacity() == 0) in_.reserve(1024);
  size_t old = in_.size();
  in_.resize(old + 1024);
  socket_.async_read_some(
      asio::buffer(&in_[old], 1024),
      [self = shared_from_this(), old](const boost::system::error_code& ec, size_t n) {
        self->in_.resize(old + n);
        if (self->closed_) return;
        if (ec || n == 0) {
          self->timer_.cancel();
          self->Log("HANGUP after %s from %s in tests after SMTP handshake",
                    FormatDelay(self->SecondsSinceConnect()).c_str(), self->client_tag_);
          self->Close();
          return;
        }
        self->ProcessInput();
      });
}

void Session::ProcessInput() {
  std::string out;
  size_t consumed = 0;
  bool close_after = false;
  while (!close_after) {
    size_t nl = in_.find('\n', consumed);
    if (nl == std::string::npos) break;
    size_t end = nl;
    std::string_view ending = "\n";
    if (end > consumed && in_[end - 1] == '\r') {
      --end;
      ending = "\r\n";
    }
    std::string_view line(in_.data() + consumed, end - consumed);
    if (line.size() > config_->engine.line_length_limit) {
      engine_->OnLineTooLong(&out);
      close_after = true;
      break;
    }
    bool more_queued = nl + 1 < in_.size();
    SmtpCommand cmd;
    SmtpEngine::SplitCommand(line, &cmd.verb, &cmd.argument);
    cmd.line = line;
    cmd.more_input_queued = more_queued;
    for (size_t i = 0; i < slots_.size() && !closed_; ++i) {
      if (Apply(i, slots_[i].filter->OnLine(*this, line, ending)) == Outcome::kDropped) return;
      if (Apply(i, slots_[i].filter->OnCommand(*this, cmd)) == Outcome::kDropped) return;
    }
    if (engine_->OnLine(line, &out) == SmtpEngine::Next::kClose) close_after = true;
    consumed = nl + 1;
  }
  in_.erase(0, consumed);
  if (!close_after && in_.size() > config_->engine.line_length_limit) {
    engine_->OnLineTooLong(&out);
    close_after = true;
  }
  if (close_after) {
    ReplyAndClose(std::move(out));
    return;
  }
  if (!out.empty()) Send(std::move(out), false);
  ReadCommands();
}

void Session::Send(std::string data, bool then_close) {
  if (closed_) return;
  pending_out_ += data;
  if (then_close) close_after_write_ = true;
  if (!writing_) FlushOutput();
}

// Writes what is pending; out_ stays untouched while a write uses it.
void Session::FlushOutput() {
  if (pending_out_.empty()) {
    if (close_after_write_) {
      Close();
    } else if (handoff_after_write_) {
      HandOff();
    }
    return;
  }
  out_.swap(pending_out_);
  pending_out_.clear();
  writing_ = true;
  asio::async_write(socket_, asio::buffer(out_),
                    [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                      self->writing_ = false;
                      if (ec) {
                        self->Close();
                        return;
                      }
                      self->FlushOutput();
                    });
}

void Session::ReplyAndClose(std::string data) {
  timer_.cancel();
  Send(std::move(data), true);
}

void Session::Close() {
  if (closed_) return;
  closed_ = true;
  timer_.cancel();
  Log("DISCONNECT %s", client_tag_);
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  ReleaseScreeningSlots();
}

void Session::ReleaseScreeningSlots() {
  if (under_test_) {
    state_->under_test.fetch_sub(1);
    under_test_ = false;
  }
  if (client_counted_) {
    state_->clients.Release(client_.address);
    client_counted_ = false;
  }
}

void Session::HandOff() {
  if (writing_) {
    // The socket moves to the relay: let the write that uses it (the teaser)
    // finish first.
    handoff_after_write_ = true;
    return;
  }
  // A relayed session no longer counts towards the screening limits:
  // postscreen forgets a client once smtpd has it.
  ReleaseScreeningSlots();
  timer_.cancel();
  closed_ = true;
  HandoffRequest req{std::move(socket_), client_,      server_,
                     std::move(in_),     teaser_sent_, client_tag_};
  StartHandoff(worker_, config_, state_, std::move(req));
}

}  // namespace mxs
