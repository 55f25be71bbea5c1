// session: the connection flow of spec section 1 and the verdict/action logic
// of sections 3, 5 and 6. Every log line a session writes comes from here,
// from the engine (smtp_engine.cc), from the hand-off (handoff.cc) or from a
// filter; docs/design.md lists them in order.
#include "core/session.h"

#include <boost/asio/write.hpp>

#include <cstdarg>
#include <cstdio>
#include <ctime>

#include "core/handoff.h"
#include "core/top_talkers.h"
#include "core/verdict_store.h"
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
      started_(std::chrono::steady_clock::now()) {}

Session::~Session() {
  ReleaseScreeningSlots();
  if (active_counted_) M().active->Add(-1);
  for (auto& s : slots_) {
    if (s.filter) s.filter->OnSessionEnd(*this);
  }
}

double Session::SecondsSinceConnect() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

void Session::Log(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  worker_.logger().VLogf(config_->program_name, fmt, ap);
  va_end(ap);
}

// The worker's resolver: a session's lookups run on its own event loop.
DnsResolver* Session::dns_resolver() { return worker_.dns_resolver(); }

void Session::RecordOutcome(SessionOutcome o) {
  if (outcome_recorded_) return;
  outcome_recorded_ = true;
  M().Outcome(o);
}

void Session::RecordReject(std::string_view reply) {
  M().Reject(reply);
  TopTalkers::Global().Record(client_.address);
}

void Session::OnRcptRejected(std::string_view reply) { RecordReject(reply); }

void Session::LogAs(const char* service, const std::string& line) {
  // "postfix/postscreen" -> "postfix/<service>"; a name without a slash is
  // replaced whole.
  const std::string& own = config_->program_name;
  auto slash = own.rfind('/');
  std::string program = (slash == std::string::npos ? "" : own.substr(0, slash + 1)) + service;
  worker_.logger().Logf(program, "%s", line.c_str());
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
  M().total->Inc();
  M().active->Add(1);
  active_counted_ = true;
  boost::system::error_code ec;
  socket_.non_blocking(true, ec);
  if (StartListenerPhase(0)) return;
  ConnectPhase();
}

// ---------------------------------------------------------------------------
// Listener phase: before the client address is final (spec section 8). A
// filter such as upstream_proxy reads a header in front of the client's bytes
// and names the real client; everything after it (the CONNECT line, limits,
// access list, verdict store, hand-off) uses that client. The hook gets all
// unconsumed input so far, so any chunking gives the same result; bytes after
// the header stay in in_ as the client's own early input.

bool Session::StartListenerPhase(size_t from) {
  size_t i = from;
  while (i < config_->chain.size() && !config_->chain[i].traits.listener_phase) ++i;
  if (i == config_->chain.size()) return false;
  const ChainEntry& entry = config_->chain[i];
  listener_index_ = i;
  // An instance of its own: the connect phase creates the chain's filters
  // only once the client is known.
  listener_filter_ = entry.factory->Create();
  Timer().expires_after(entry.traits.listener_timeout);
  Timer().async_wait([self = shared_from_this(), i](const boost::system::error_code& ec) {
    // A handler already queued when the phase ended finds no filter at work.
    if (ec || self->closed_ || !self->listener_filter_ || self->listener_index_ != i) return;
    self->RunListenerFilter(ListenerEvent::kTimeout);
  });
  if (in_.empty()) {
    ReadListenerInput();
  } else {
    RunListenerFilter(ListenerEvent::kData);
  }
  return true;
}

void Session::ReadListenerInput() {
  socket_.async_wait(
      tcp::socket::wait_read, [self = shared_from_this()](const boost::system::error_code& ec) {
        if (self->closed_ || !self->listener_filter_) return;
        size_t n = 0;
        boost::system::error_code rec = ec ? ec : self->ReadAvailable(&n);
        if (rec == asio::error::would_block || rec == asio::error::try_again) {
          self->ReadListenerInput();
          return;
        }
        // A failed read ends the header as EOF does (Postfix: "EOF").
        self->RunListenerFilter(rec || n == 0 ? ListenerEvent::kEof : ListenerEvent::kData);
      });
}

void Session::RunListenerFilter(ListenerEvent event) {
  ListenerVerdict v = listener_filter_->OnListenerInput(*this, in_, event);
  if (v.kind == ListenerVerdict::Kind::kNeedMore) {
    if (event == ListenerEvent::kData) {
      ReadListenerInput();
      return;
    }
    // A filter that still wants bytes that will never come: refuse, as for
    // any endpoint failure.
    v = ListenerVerdict::Fail("421 4.3.2 No system resources");
  }
  if (v.kind == ListenerVerdict::Kind::kFail) {
    FailListenerPhase(v.reply);
    return;
  }
  StopTimers();
  listener_filter_.reset();
  in_.erase(0, std::min(v.consumed, in_.size()));
  if (v.client) client_ = *v.client;
  if (v.server) server_ = *v.server;
  if (StartListenerPhase(listener_index_ + 1)) return;
  ConnectPhase();
}

void Session::FailListenerPhase(const std::string& reply) {
  StopTimers();
  listener_filter_.reset();
  closed_ = true;
  phase_ = Phase::kDone;
  M().Reject(reply);  // the client is not known yet: not a top talker
  RecordOutcome(SessionOutcome::kListenerFail);
  // Best effort, as postscreen's: the client may be gone already.
  out_ = reply + "\r\n";
  asio::async_write(socket_, asio::buffer(out_),
                    [self = shared_from_this()](const boost::system::error_code&, size_t) {
                      boost::system::error_code ignored;
                      self->socket_.shutdown(tcp::socket::shutdown_both, ignored);
                      self->socket_.close(ignored);
                    });
}

// ---------------------------------------------------------------------------
// Connect phase: limits, connect hooks (access list), the verdict cache.

void Session::ConnectPhase() {
  std::snprintf(client_tag_, sizeof client_tag_, "[%s]:%u", client_.address.ToString().c_str(),
                client_.port);
  Log("CONNECT from %s to [%s]:%u", client_tag_, server_.address.ToString().c_str(), server_.port);

  const LimitsConfig& limits = config_->limits;
  if (!state_->clients.TryAcquire(client_.address, limits.client_connection_count_limit)) {
    Log("NOQUEUE: reject: CONNECT from %s: too many connections", client_tag_);
    RecordReject("421");
    RecordOutcome(SessionOutcome::kLimit);
    ReplyAndClose("421 4.7.0 Error: too many connections\r\n");
    return;
  }
  client_counted_ = true;
  if (state_->post_queue.load() >= limits.post_queue_limit) {
    Log("NOQUEUE: reject: CONNECT from %s: all server ports busy", client_tag_);
    RecordReject("421");
    RecordOutcome(SessionOutcome::kLimit);
    ReplyAndClose("421 4.3.2 All server ports are busy\r\n");
    return;
  }

  slots_.resize(config_->chain.size());
  for (size_t i = 0; i < slots_.size(); ++i) {
    slots_[i].filter = config_->chain[i].factory->Create();
    slots_[i].ttl = config_->chain[i].ttl;
  }

  // Connect hooks run in chain order; the first allow or drop ends the phase.
  for (size_t i = 0; i < slots_.size(); ++i) {
    Outcome o = Apply(i, slots_[i].filter->OnConnect(*this));
    if (o == Outcome::kAllow) {
      RecordOutcome(SessionOutcome::kAllowlisted);
      HandOff();
      return;
    }
    if (o == Outcome::kDropped) return;
  }

  if (ApplyCachedPasses() && enforced_reply_.empty()) {
    Log("PASS OLD %s", client_tag_);
    RecordOutcome(SessionOutcome::kPassOld);
    HandOff();
    return;
  }

  // Postfix counts this client before comparing: a limit of N holds N-1.
  uint32_t under_test = state_->under_test.load();
  if (under_test + 1 >= limits.pre_queue_limit) {
    Log("reject: connect from %s: all screening ports busy", client_tag_);
    RecordReject("421");
    RecordOutcome(SessionOutcome::kLimit);
    ReplyAndClose("421 4.3.2 All screening ports are busy\r\n");
    return;
  }
  under_test = state_->under_test.fetch_add(1) + 1;
  under_test_ = true;
  if (state_->UpdateStress(under_test, limits.pre_queue_limit) > 0) {
    M().stress->Set(1);
    Log("entering STRESS mode with %u connections", under_test);
  }
  StartEarlyTests();
}

bool Session::ApplyCachedPasses() {
  bool any_cached = false;
  for (const auto& e : config_->chain) any_cached |= e.traits.cached;
  if (!any_cached || !state_->store) return false;
  auto record = state_->store->Lookup(client_.address);
  (record ? M().lookup_hit : M().lookup_miss)->Inc();
  if (!record) return false;
  int64_t now = time(nullptr);
  bool all = true;
  for (size_t i = 0; i < slots_.size(); ++i) {
    const ChainEntry& e = config_->chain[i];
    if (!e.traits.cached) continue;
    if (slots_[i].state == TestState::kTodo && record->ExpiryOf(e.name) > now) {
      slots_[i].state = TestState::kPassed;
      slots_[i].from_cache = true;
      M().filters[i].cached->Inc();
    } else {
      all = false;
    }
  }
  return all;
}

// ---------------------------------------------------------------------------
// Verdicts: the only place where an action gets its meaning.

Session::Outcome Session::Apply(size_t i, Verdict v) {
  const ChainEntry& entry = config_->chain[i];
  Slot& slot = slots_[i];
  if (slot.state == TestState::kFailed) {
    // A failed test is skipped for the rest of the session (postscreen).
    return Outcome::kGoOn;
  }
  switch (v.kind) {
    case Verdict::Kind::kContinue:
      return Outcome::kGoOn;
    case Verdict::Kind::kPending:
      slot.state = TestState::kPending;
      return Outcome::kGoOn;
    case Verdict::Kind::kPass:
      PassTest(i, v.ttl.count() > 0 ? v.ttl : slot.ttl);
      return Outcome::kGoOn;
    case Verdict::Kind::kAllow:
      if (phase_ == Phase::kConnect) {
        M().filters[i].pass->Inc();
        return Outcome::kAllow;
      }
      PassTest(i, slot.ttl);
      return Outcome::kGoOn;
    case Verdict::Kind::kAllowOthers: {
      Seconds ttl = v.ttl.count() > 0 ? v.ttl : slot.ttl;
      PassTest(i, ttl);
      // postscreen allowlists (DNSWL) only a client with no other failure
      // acted on; an ignored failure does not count.
      if (failed_hard_) return Outcome::kGoOn;
      for (size_t j = 0; j < slots_.size(); ++j) {
        if (j != i && config_->chain[j].traits.cached && slots_[j].state != TestState::kFailed &&
            slots_[j].state != TestState::kPassed) {
          PassTest(j, ttl);
        }
      }
      return Outcome::kGoOn;
    }
    case Verdict::Kind::kFail:
    case Verdict::Kind::kDeny:
      switch (entry.action) {
        case Action::kIgnore:
          // Dry-run: what would have failed is counted, not acted on.
          M().filters[i].would_fail->Inc();
          // Logged by the filter and not acted on. A test before the greeting
          // repeats next time; a deep test would keep a good client in the
          // engine forever, so, as postscreen does, it counts as passed until
          // the shortest TTL of the chain runs out.
          if (entry.traits.needs_engine) {
            Seconds shortest = slot.ttl;
            for (const auto& e : config_->chain) {
              if (e.traits.cached && e.ttl < shortest) shortest = e.ttl;
            }
            PassTest(i, shortest, false);
          } else {
            FailTest(i);
          }
          return Outcome::kGoOn;
        case Action::kEnforce:
          M().filters[i].fail->Inc();
          if (v.kind == Verdict::Kind::kDeny) denied_ = true;
          FailTest(i);
          failed_hard_ = true;
          enforced_reply_ = "550 " + v.reply;
          return Outcome::kGoOn;
        case Action::kDrop:
          M().filters[i].fail->Inc();
          FailTest(i);
          failed_hard_ = true;
          RecordReject("521");
          RecordOutcome(v.kind == Verdict::Kind::kDeny || denied_ ? SessionOutcome::kDenylisted
                                                                  : SessionOutcome::kDropped);
          ReplyAndClose("521 " + (v.drop_reply.empty() ? v.reply : v.drop_reply) + "\r\n");
          return Outcome::kDropped;
      }
  }
  return Outcome::kGoOn;
}

void Session::PassTest(size_t i, Seconds ttl, bool count) {
  if (slots_[i].state == TestState::kFailed) return;
  if (count && slots_[i].state != TestState::kPassed) M().filters[i].pass->Inc();
  slots_[i].state = TestState::kPassed;
  slots_[i].ttl = ttl;
}

void Session::FailTest(size_t i) {
  slots_[i].state = TestState::kFailed;
  slots_[i].from_cache = false;
}

void Session::Resume(const void* filter, Verdict verdict) {
  if (closed_) return;
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].filter.get() != filter || slots_[i].state != TestState::kPending) continue;
    slots_[i].state = TestState::kTodo;
    if (Apply(i, std::move(verdict)) == Outcome::kDropped) return;
    if (phase_ == Phase::kEarly && !EarlyTestsUndecided()) EndGreetWait();
    return;
  }
}

// ---------------------------------------------------------------------------
// Tests before the greeting: the teaser and the greet wait.

static bool IsEarlyTest(const ChainEntry& e) { return e.traits.cached && !e.traits.needs_engine; }

bool Session::EarlyTestsUndecided() const {
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (IsEarlyTest(config_->chain[i]) &&
        (slots_[i].state == TestState::kTodo || slots_[i].state == TestState::kPending)) {
      return true;
    }
  }
  return false;
}

void Session::StartEarlyTests() {
  phase_ = Phase::kEarly;
  if (!EarlyTestsUndecided()) {
    // Passes still valid from the cache (or no early test at all): a client
    // that must still pass deep tests gets the engine's 220 at once.
    AfterEarlyTests();
    return;
  }
  for (size_t i = 0; i < slots_.size(); ++i) {
    const ChainEntry& e = config_->chain[i];
    if (IsEarlyTest(e) && slots_[i].state == TestState::kTodo && e.traits.wants_teaser) {
      Send("220-" + (e.traits.teaser.empty() ? config_->banner : e.traits.teaser) + "\r\n", false);
      teaser_sent_ = true;
      break;
    }
  }
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (!IsEarlyTest(config_->chain[i]) || slots_[i].state != TestState::kTodo) continue;
    if (Apply(i, slots_[i].filter->OnBeforeGreeting(*this)) == Outcome::kDropped) return;
  }
  if (!EarlyTestsUndecided()) {
    AfterEarlyTests();
    return;
  }
  worker_.greet_waits().Add(&greet_link_, shared_from_this(),
                            stress() ? config_->greet_wait_stress : config_->greet_wait);
  ReadEarlyInput();
}

// Waits for the client to be readable without holding a buffer: an idle
// session in the greet wait owns no read memory.
void Session::ReadEarlyInput() {
  if (!in_.empty()) {
    // Bytes that came behind a PROXY header (listener phase) were sent
    // before the greeting: they are early input like any read here.
    OnEarlyInput(in_.size());
    return;
  }
  early_read_pending_ = true;
  socket_.async_wait(tcp::socket::wait_read,
                     [self = shared_from_this()](const boost::system::error_code& ec) {
                       self->early_read_pending_ = false;
                       if (self->closed_) return;
                       if (self->phase_ != Phase::kEarly) {
                         // The wait ended while this read was pending (cancelled, or bytes raced
                         // the timer): what the client sent stays for the engine or the backend.
                         self->AfterEarlyTests();
                         return;
                       }
                       size_t n = 0;
                       boost::system::error_code rec = ec ? ec : self->ReadAvailable(&n);
                       if (rec == asio::error::would_block || rec == asio::error::try_again) {
                         self->ReadEarlyInput();
                         return;
                       }
                       if (rec || n == 0) {
                         self->Hangup("before SMTP handshake");
                         return;
                       }
                       self->OnEarlyInput(n);
                     });
}

boost::system::error_code Session::ReadAvailable(size_t* n) {
  boost::system::error_code ec;
  size_t avail = socket_.available(ec);
  if (ec) return ec;
  // Zero available on a readable socket means EOF: read one byte to see it.
  size_t want = std::min<size_t>(std::max<size_t>(avail, 1), 4096);
  size_t old = in_.size();
  in_.resize(old + want);
  *n = socket_.read_some(asio::buffer(&in_[old], want), ec);
  in_.resize(old + (ec ? 0 : *n));
  return ec;
}

void Session::OnEarlyInput(size_t n) {
  early_input_ = true;
  double delay = SecondsSinceConnect();
  std::string_view bytes(in_.data(), n);
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (!IsEarlyTest(config_->chain[i])) continue;
    if (slots_[i].state != TestState::kTodo && slots_[i].state != TestState::kPending) continue;
    if (Apply(i, slots_[i].filter->OnEarlyInput(*this, bytes, delay)) == Outcome::kDropped) return;
  }
  // The bytes stay in in_: for the engine (enforce) or the backend (ignore).
  // No further read: what follows is the engine's or the backend's to read.
  if (!EarlyTestsUndecided()) EndGreetWait();
}

void Session::OnGreetWaitDeadline() {
  if (phase_ == Phase::kEarly && !closed_) EndGreetWait();
}

void Session::EndGreetWait() {
  if (phase_ != Phase::kEarly) return;
  worker_.greet_waits().Remove(&greet_link_);
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (!IsEarlyTest(config_->chain[i])) continue;
    if (slots_[i].state != TestState::kTodo && slots_[i].state != TestState::kPending) continue;
    slots_[i].state = TestState::kTodo;  // what did not answer in time is undecided
    if (Apply(i, slots_[i].filter->OnGreetWaitEnd(*this)) == Outcome::kDropped) return;
  }
  phase_ = Phase::kEngine;
  if (early_read_pending_) {
    // The read's handler continues with AfterEarlyTests once it is cancelled.
    boost::system::error_code ec;
    socket_.cancel(ec);
    return;
  }
  AfterEarlyTests();
}

void Session::AfterEarlyTests() {
  phase_ = Phase::kEngine;
  bool engine_needed = !enforced_reply_.empty();
  for (size_t i = 0; i < slots_.size(); ++i) {
    const ChainEntry& e = config_->chain[i];
    if (e.traits.cached && e.traits.needs_engine && slots_[i].state == TestState::kTodo) {
      engine_needed = true;
    }
  }
  if (engine_needed) {
    StartEngine();
    return;
  }
  StorePasses();
  LogPassNewIfComplete();
  RecordOutcome(SessionOutcome::kPassNew);
  HandOff();
}

// ---------------------------------------------------------------------------
// The built-in SMTP engine.

void Session::StartEngine() {
  engine_ = std::make_unique<SmtpEngine>(config_->engine, config_->hostname, *this);
  // A client that talked before its turn and failed under enforce gets no
  // 220 at all: the engine answers its early command straight away.
  if (!(early_input_ && !enforced_reply_.empty())) Send("220 " + config_->banner + "\r\n", false);
  if (!in_.empty()) {
    ProcessInput();
    return;
  }
  ReadCommands();
}

asio::steady_timer& Session::Timer() {
  if (!timer_) timer_ = std::make_unique<asio::steady_timer>(worker_.io());
  return *timer_;
}

void Session::StopTimers() {
  if (timer_) timer_->cancel();
  worker_.greet_waits().Remove(&greet_link_);
}

void Session::ArmCommandTimer() {
  Timer().expires_after(stress() ? config_->engine.command_time_limit_stress
                                 : config_->engine.command_time_limit);
  Timer().async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->closed_) return;
    std::string out;
    self->engine_->OnTimeout(&out);
    self->ReplyAndClose(std::move(out));
  });
}

void Session::ReadCommands() {
  if (closed_) return;
  ArmCommandTimer();
  WaitForCommands();
}

void Session::WaitForCommands() {
  socket_.async_wait(tcp::socket::wait_read,
                     [self = shared_from_this()](const boost::system::error_code& ec) {
                       if (self->closed_) return;
                       size_t n = 0;
                       boost::system::error_code rec = ec ? ec : self->ReadAvailable(&n);
                       if (rec == asio::error::would_block || rec == asio::error::try_again) {
                         self->WaitForCommands();
                         return;
                       }
                       if (rec || n == 0) {
                         self->Hangup("after SMTP handshake");
                         return;
                       }
                       self->ProcessInput();
                     });
}

void Session::ProcessInput() {
  std::string out;
  size_t consumed = 0;
  bool close_after = false;
  while (!close_after && !closed_) {
    size_t nl = in_.find('\n', consumed);
    if (nl == std::string::npos) break;
    size_t end = nl;
    std::string_view ending = "\n";
    if (end > consumed && in_[end - 1] == '\r') {
      --end;
      ending = "\r\n";
    }
    std::string_view line(in_.data() + consumed, end - consumed);
    // Postfix refuses a line once its buffer holds line_length_limit bytes.
    if (line.size() >= config_->engine.line_length_limit) {
      engine_->OnLineTooLong(&out);
      close_after = true;
      break;
    }
    SmtpCommand cmd;
    SmtpEngine::SplitCommand(line, &cmd.verb, &cmd.argument);
    cmd.line = line;
    cmd.more_input_queued = nl + 1 < in_.size();
    cmd.queued = std::string_view(in_).substr(nl + 1);
    for (size_t i = 0; i < slots_.size(); ++i) {
      Slot& s = slots_[i];
      if (s.from_cache || s.state == TestState::kFailed) continue;
      if (Apply(i, s.filter->OnLine(*this, line, ending)) == Outcome::kDropped) return;
      if (Apply(i, s.filter->OnCommand(*this, cmd)) == Outcome::kDropped) return;
    }
    if (engine_->OnLine(line, &out) == SmtpEngine::Next::kClose) close_after = true;
    consumed = nl + 1;
  }
  in_.erase(0, consumed);
  // An idle engine session keeps no read buffer either.
  if (in_.empty()) std::string().swap(in_);
  if (!close_after && in_.size() >= config_->engine.line_length_limit) {
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

// ---------------------------------------------------------------------------
// Conclude: passes into the store, PASS NEW.

bool Session::AllCachedPassed(bool* any_cached, bool* any_new) const {
  bool all = true;
  *any_cached = false;
  *any_new = false;
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (!config_->chain[i].traits.cached) continue;
    *any_cached = true;
    if (slots_[i].state != TestState::kPassed) all = false;
    if (slots_[i].state == TestState::kPassed && !slots_[i].from_cache) *any_new = true;
  }
  return all;
}

void Session::StorePasses() {
  if (passes_stored_ || failed_hard_ || !state_->store) return;
  passes_stored_ = true;
  int64_t now = time(nullptr);
  VerdictRecord record;
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (!config_->chain[i].traits.cached) continue;
    if (slots_[i].state == TestState::kPassed && !slots_[i].from_cache) {
      record.Set(config_->chain[i].name, now + slots_[i].ttl.count());
    }
  }
  if (!record.passes.empty()) state_->store->Update(client_.address, record);
}

void Session::LogPassNewIfComplete() {
  bool any_cached;
  bool any_new;
  if (pass_new_logged_ || failed_hard_) return;
  if (AllCachedPassed(&any_cached, &any_new) && any_cached && any_new) {
    pass_new_logged_ = true;
    Log("PASS NEW %s", client_tag_);
  }
}

// ---------------------------------------------------------------------------
// Output, close, hand-off.

void Session::Send(std::string data, bool then_close) {
  if (closed_) return;
  pending_out_ += data;
  if (then_close) close_after_write_ = true;
  if (!writing_) FlushOutput();
}

// Writes what is pending; out_ stays untouched while a write uses it.
void Session::FlushOutput() {
  if (pending_out_.empty()) {
    // Nothing more to send: an idle session keeps no output buffer.
    std::string().swap(out_);
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
  StopTimers();
  Send(std::move(data), true);
}

void Session::Hangup(const char* where) {
  StopTimers();
  Log("HANGUP after %s from %s in tests %s", FormatDelay(SecondsSinceConnect()).c_str(),
      client_tag_, where);
  Close();
}

void Session::Close() {
  if (closed_) return;
  if (phase_ == Phase::kEarly || phase_ == Phase::kEngine) {
    StorePasses();
    LogPassNewIfComplete();
  }
  closed_ = true;
  phase_ = Phase::kDone;
  StopTimers();
  if (failed_hard_) {
    RecordOutcome(denied_ ? SessionOutcome::kDenylisted : SessionOutcome::kRejected);
  } else if (pass_new_logged_) {
    RecordOutcome(SessionOutcome::kPassNew);
  } else {
    RecordOutcome(SessionOutcome::kHangup);
  }
  Log("DISCONNECT %s", client_tag_);
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  ReleaseScreeningSlots();
}

void Session::ReleaseScreeningSlots() {
  if (under_test_) {
    uint32_t n = state_->under_test.fetch_sub(1) - 1;
    under_test_ = false;
    if (state_->UpdateStress(n, config_->limits.pre_queue_limit) < 0) {
      M().stress->Set(0);
      Log("leaving STRESS mode with %u connections", n);
    }
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
  StopTimers();
  closed_ = true;
  phase_ = Phase::kDone;
  HandoffRequest req{std::move(socket_), client_,      server_,
                     std::move(in_),     teaser_sent_, client_tag_};
  // The relay counts the connection as active from here on.
  active_counted_ = false;
  StartHandoff(worker_, config_, state_, std::move(req));
}

}  // namespace mxs
