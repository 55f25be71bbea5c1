// server: start-up, signals (the drain), and config swaps.
#include "core/server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <csignal>

#include "core/admin_server.h"
#include "core/ares_resolver.h"
#include "core/config_dump.h"
#include "core/config_error.h"
#include "core/listener_metrics.h"
#include "core/metrics.h"
#include "core/sd_notify.h"
#include "core/top_talkers.h"
#include "core/verdict_store.h"

namespace mxs {

namespace asio = boost::asio;

namespace {
std::string DirOf(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// SO_REUSEPORT would let a second gateway (a stale one, say) share the port
// silently and take half the connections. A plain bind first fails with
// EADDRINUSE in that case, as Postfix's would.
void ProbeAddressFree(const Endpoint& address) {
  asio::io_context io;
  asio::ip::tcp::acceptor probe(io);
  asio::ip::tcp::endpoint ep(asio::ip::make_address(address.address.ToString()), address.port);
  boost::system::error_code ec;
  probe.open(ep.protocol(), ec);
  if (!ec) probe.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) probe.bind(ep, ec);
  if (ec) throw std::runtime_error("cannot listen on " + address.ToString() + ": " + ec.message());
}

// A fresh state for a listener (a new slot, or a change of backends or
// store): sessions already running keep counting on the state they began with.
std::shared_ptr<ListenerState> NewListenerState(const ListenerConfig& l,
                                                std::shared_ptr<VerdictStore> store) {
  auto state = std::make_shared<ListenerState>(l.handoff.backends.size());
  state->store = std::move(store);
  return state;
}
// The store series of each listener, read when /metrics is rendered. A weak
// reference: the metrics registry lives on after the server, the store must
// not (it closes RocksDB when the server goes).
void PublishStoreMetrics(const std::vector<std::shared_ptr<ListenerSlot>>& slots) {
  auto& r = metrics::Registry::Get();
  for (const auto& slot : slots) {
    auto store = slot->state()->store;
    if (!store) continue;
    std::weak_ptr<VerdictStore> weak = store;
    metrics::Labels labels = {{"listener", slot->config()->name}};
    r.SetGaugeCallback("mxs_verdict_store_records", "Records in the listener's verdict store.",
                       labels, [weak] {
                         auto s = weak.lock();
                         return s ? static_cast<double>(s->CountRecords()) : 0.0;
                       });
    r.SetGaugeCallback("mxs_verdict_store_degraded",
                       "1 while the listener's verdict store is degraded (screening as if "
                       "nothing were cached; /ready says why).",
                       labels, [weak] {
                         auto s = weak.lock();
                         return s && !s->Degraded().empty() ? 1.0 : 0.0;
                       });
  }
}
// Logs which build of which plugin each listener's entries run: at start,
// and on a reload or push for the entries whose build changed (a new build
// at the same path included), so the log says when a new build took over.
void LogLoadedFilters(const GatewayConfig& next, const GatewayConfig* previous, Logger& logger) {
  auto described = [&](const std::string& listener, const std::string& entry) -> std::string {
    if (previous == nullptr) return "";
    for (const auto& l : previous->listeners) {
      if (l->name != listener) continue;
      for (const auto& e : l->chain) {
        if (e.name == entry) return e.factory->Describe();
      }
    }
    return "";
  };
  for (const auto& l : next.listeners) {
    for (const auto& e : l->chain) {
      std::string d = e.factory->Describe();
      if (d.empty() || d == described(l->name, e.name)) continue;
      logger.Logf("mxscreen", "listener %s: filter %s is %s", l->name.c_str(), e.name.c_str(),
                  d.c_str());
    }
  }
}

}  // namespace

Server::Server(std::shared_ptr<const GatewayConfig> config, std::shared_ptr<Logger> logger,
               std::string config_path)
    : config_path_(std::move(config_path)),
      logger_(std::move(logger)),
      config_(std::move(config)) {}

Server::~Server() { Stop(); }

std::shared_ptr<VerdictStore> Server::StoreFor(const ListenerConfig& l) {
  if (l.store_path.empty()) return nullptr;
  auto& store = stores_[l.store_path];
  if (!store) {
    VerdictStoreOptions options;
    options.path = l.store_path;
    options.retention_time = l.store_retention;
    options.cleanup_interval = l.store_cleanup_interval;
    options.memory_records = l.store_memory_records;
    try {
      store = OpenVerdictStore(options, logger_.get());
    } catch (...) {
      stores_.erase(l.store_path);
      throw;
    }
  }
  return store;
}

void Server::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& l : config_->listeners) ProbeAddressFree(l->address);
  for (const auto& l : config_->listeners) {
    slots_.push_back(std::make_shared<ListenerSlot>(l, NewListenerState(*l, StoreFor(*l))));
  }
  // One lookup table for the process: sessions from one client on different
  // workers share a DNS lookup. Resolver settings are read here, at start.
  auto dns_table = MakeDnsLookupTable(config_->dns);
  for (unsigned w = 0; w < config_->workers; ++w) {
    auto worker = std::make_unique<Worker>(w, *logger_);
    worker->SetDnsTable(dns_table);
    for (const auto& slot : slots_) worker->Listen(slot);
    workers_.push_back(std::move(worker));
  }
  for (auto& w : workers_) w->Start();
  for (const auto& l : config_->listeners) {
    logger_->Logf("mxscreen", "listener %s on %s with %zu filters, %u workers", l->name.c_str(),
                  l->address.ToString().c_str(), l->chain.size(), config_->workers);
  }
  LogLoadedFilters(*config_, nullptr, *logger_);
  PublishStoreMetrics(slots_);
  SetConfigVersionMetric(config_->version);
  TopTalkers::Global().SetEnabled(config_->admin.has_value());
  // After the listeners: /ready answers 200 from its first request on.
  if (config_->admin) admin_ = std::make_unique<AdminServer>(*config_->admin, *this, *logger_);
}

size_t Server::LiveConnections() const {
  size_t n = 0;
  for (const auto& w : workers_) n += w->connections();
  return n;
}

Seconds Server::StartDrain(int sig) {
  // /ready answers 503 from now on (load balancers stop sending first).
  stopping_.store(true);
  std::lock_guard<std::mutex> lock(mu_);
  draining_ = true;
  for (auto& w : workers_) w->StopAccepting();
  size_t left = LiveConnections();
  logger_->Logf(
      "mxscreen",
      "terminating on signal %d: listeners closed, draining %zu connection(s) for up to %llds", sig,
      left, static_cast<long long>(config_->drain_time.count()));
  SdNotify("STOPPING=1\nSTATUS=draining " + std::to_string(left) + " connection(s)");
  return config_->drain_time;
}

void Server::Run() {
  using Clock = std::chrono::steady_clock;
  asio::io_context signals_io;
  asio::signal_set signals(signals_io, SIGTERM, SIGINT, SIGHUP);
  signals.add(SIGUSR1);
  // While draining: checks every 50 ms whether connections are left.
  asio::steady_timer tick(signals_io);
  bool draining = false;
  Clock::time_point drain_start, drain_end;
  Seconds drain_time{0};
  auto seconds_since = [](Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  };
  std::function<void()> check_drain = [&] {
    size_t left = LiveConnections();
    if (left == 0) {
      logger_->Logf("mxscreen", "drain done after %.1fs: no connections left",
                    seconds_since(drain_start));
      signals_io.stop();
      return;
    }
    if (Clock::now() >= drain_end) {
      logger_->Logf("mxscreen", "drain time %llds is up: closing %zu connection(s)",
                    static_cast<long long>(drain_time.count()), left);
      signals_io.stop();
      return;
    }
    tick.expires_after(
        std::min<Clock::duration>(std::chrono::milliseconds(50), drain_end - Clock::now()));
    tick.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) check_drain();
    });
  };
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
          std::function<void()> handler;
          {
            std::lock_guard<std::mutex> lock(mu_);
            handler = reload_handler_;
          }
          if (handler) {
            handler();
          } else {
            Reload();
          }
        } else if (sig == SIGUSR1) {
          logger_->Reopen();
        } else if (!draining) {
          draining = true;
          drain_start = Clock::now();
          drain_time = StartDrain(sig);
          drain_end = drain_start + drain_time;
          check_drain();
        } else {
          logger_->Logf("mxscreen", "signal %d during the drain: closing %zu connection(s) now",
                        sig, LiveConnections());
          signals_io.stop();
          return;
        }
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);
  // The caller blocked these while starting (so that no thread but this one
  // takes them); they may be unblocked only now that the set's handler is
  // installed, or a TERM that came during start-up would kill the process.
  sigset_t handled;
  sigemptyset(&handled);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) sigaddset(&handled, s);
  pthread_sigmask(SIG_UNBLOCK, &handled, nullptr);
  signals_io.run();
  Stop();
}

void Server::Stop() {
  stopping_.store(true);
  // Destroyed after the lock is released (see admin_).
  std::unique_ptr<AdminServer> admin;
  // Under the lock: an Apply from the control client's thread either ran
  // before (and is done with the workers) or sees stopped_ and refuses.
  std::lock_guard<std::mutex> lock(mu_);
  admin = std::move(admin_);
  stopped_ = true;
  for (auto& w : workers_) w->Stop();
  for (auto& w : workers_) w->Join();
  workers_.clear();
}

std::string Server::Apply(std::shared_ptr<const GatewayConfig> next) {
  // The admin server this config replaces, destroyed after the lock is
  // released (see admin_).
  std::unique_ptr<AdminServer> retired_admin;
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_ || draining_) return "the gateway is shutting down";
  if (next->workers != config_->workers) {
    return "workers changed from " + std::to_string(config_->workers) + " to " +
           std::to_string(next->workers) + "; restart to apply";
  }
  // Plan: a listener whose address is already served keeps that slot (and
  // its sockets); every other listener gets a new slot, bound below.
  struct Update {
    std::shared_ptr<ListenerSlot> slot;
    std::shared_ptr<const ListenerConfig> config;
    std::shared_ptr<ListenerState> state;
  };
  std::vector<Update> updates;
  std::vector<std::shared_ptr<ListenerSlot>> fresh, next_slots;
  std::vector<bool> kept(slots_.size(), false);
  try {
    for (const auto& l : next->listeners) {
      auto store = StoreFor(*l);
      size_t i = 0;
      while (i < slots_.size() && (kept[i] || !(slots_[i]->address() == l->address))) ++i;
      if (i < slots_.size()) {
        kept[i] = true;
        auto state = slots_[i]->state();
        if (state->backends.size() != l->handoff.backends.size() || state->store != store) {
          state = NewListenerState(*l, store);
        }
        updates.push_back({slots_[i], l, std::move(state)});
        next_slots.push_back(slots_[i]);
      } else {
        ProbeAddressFree(l->address);
        auto slot = std::make_shared<ListenerSlot>(l, NewListenerState(*l, store));
        fresh.push_back(slot);
        next_slots.push_back(slot);
      }
    }
    // Bind every new address on every worker before anything changes.
    // The admin server last: nothing after it can fail.
    try {
      for (auto& w : workers_) {
        for (const auto& slot : fresh) w->Listen(slot);
      }
    } catch (...) {
      for (auto& w : workers_) {
        for (const auto& slot : fresh) w->Unlisten(slot);
      }
      throw;
    }
    // The admin server: kept (its auth and TLS swapped in) when its address
    // is unchanged, else a new one bound before the old one closes.
    try {
      if (!next->admin) {
        retired_admin = std::move(admin_);
      } else if (admin_ && admin_->config().address == next->admin->address) {
        admin_->Update(*next->admin);
      } else {
        auto fresh_admin = std::make_unique<AdminServer>(*next->admin, *this, *logger_);
        retired_admin = std::move(admin_);
        admin_ = std::move(fresh_admin);
      }
    } catch (...) {
      for (auto& w : workers_) {
        for (const auto& slot : fresh) w->Unlisten(slot);
      }
      throw;
    }
  } catch (const std::exception& e) {
    std::string why = e.what();
    if (!run_as_.empty() && why.find("Permission denied") != std::string::npos) {
      why += " (the gateway runs as user " + run_as_ +
             " since start-up: a new port below 1024, or a store or file only root may open, "
             "needs a restart)";
    }
    return why;
  }
  // Commit.
  for (auto& u : updates) u.slot->Update(u.config, u.state);
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (kept[i]) continue;
    for (auto& w : workers_) w->Unlisten(slots_[i]);
    logger_->Logf("mxscreen", "listener on %s closed", slots_[i]->address().ToString().c_str());
  }
  for (const auto& slot : fresh) {
    auto c = slot->config();
    logger_->Logf("mxscreen", "listener %s on %s with %zu filters, %u workers", c->name.c_str(),
                  c->address.ToString().c_str(), c->chain.size(), next->workers);
  }
  LogLoadedFilters(*next, config_.get(), *logger_);
  slots_ = std::move(next_slots);
  config_ = std::move(next);
  PublishStoreMetrics(slots_);
  SetConfigVersionMetric(config_->version);
  TopTalkers::Global().SetEnabled(config_->admin.has_value());
  return "";
}

void Server::SetRunAs(std::string user) {
  std::lock_guard<std::mutex> lock(mu_);
  run_as_ = std::move(user);
}

std::string Server::NotReadyReason() {
  if (stopping_.load()) return "shutting down";
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return "shutting down";
  if (workers_.empty()) return "listeners not started";
  for (const auto& [path, store] : stores_) {
    std::string why = store->Degraded();
    if (!why.empty()) return "verdict store " + path + " degraded: " + why;
  }
  return "";
}

std::string Server::ConfigDumpJson() {
  std::shared_ptr<const GatewayConfig> config;
  {
    std::lock_guard<std::mutex> lock(mu_);
    config = config_;
  }
  return mxs::ConfigDumpJson(*config);
}

std::shared_ptr<VerdictStore> Server::StoreOf(const std::string& name, std::string* listener,
                                              std::string* error) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& slot : slots_) {
    auto l = slot->config();
    if (!name.empty() && l->name != name) continue;
    *listener = l->name;
    auto store = slot->state()->store;
    if (!store) *error = "listener " + l->name + " has no verdict store";
    return store;
  }
  *error = name.empty() ? "no listener" : "no listener named " + name;
  return nullptr;
}

void Server::SetReloadHandler(std::function<void()> handler) {
  std::lock_guard<std::mutex> lock(mu_);
  reload_handler_ = std::move(handler);
}

void Server::Reload() {
  try {
    auto bootstrap = LoadBootstrapFile(config_path_);
    auto next = BuildGatewayConfig(bootstrap, DirOf(config_path_));
    std::string err = Apply(next);
    if (err.empty()) {
      logger_->Logf("mxscreen", "reloaded %s", config_path_.c_str());
    } else {
      logger_->Logf("mxscreen", "warning: reload of %s refused: %s", config_path_.c_str(),
                    err.c_str());
    }
  } catch (const ConfigError& e) {
    logger_->Logf("mxscreen", "warning: reload of %s refused, keeping the running config: %s",
                  config_path_.c_str(), e.what());
  }
}

}  // namespace mxs
