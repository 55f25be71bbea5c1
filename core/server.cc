// server: start-up, signals and config swaps.
#include "core/server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>

#include <map>

#include "core/ares_resolver.h"
#include "core/config_error.h"
#include "core/verdict_store.h"

namespace mxs {

namespace asio = boost::asio;

namespace {
std::string DirOf(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}
}  // namespace

Server::Server(std::shared_ptr<const GatewayConfig> config, std::shared_ptr<Logger> logger,
               std::string config_path)
    : config_path_(std::move(config_path)), logger_(std::move(logger)), config_(std::move(config)) {
  for (const auto& l : config_->listeners) {
    states_.push_back(std::make_shared<ListenerState>(l->handoff.backends.size()));
  }
}

Server::~Server() { Stop(); }

// SO_REUSEPORT would let a second gateway (a stale one, say) share the port
// silently and take half the connections. A plain bind first fails with
// EADDRINUSE in that case, as Postfix's would.
static void ProbeAddressFree(const Endpoint& address) {
  asio::io_context io;
  asio::ip::tcp::acceptor probe(io);
  asio::ip::tcp::endpoint ep(asio::ip::make_address(address.address.ToString()), address.port);
  boost::system::error_code ec;
  probe.open(ep.protocol(), ec);
  if (!ec) probe.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) probe.bind(ep, ec);
  if (ec) throw std::runtime_error("cannot listen on " + address.ToString() + ": " + ec.message());
}

void Server::Start() {
  for (const auto& l : config_->listeners) ProbeAddressFree(l->address);
  // One RocksDB per distinct path (RocksDB allows one writer per directory);
  // listeners naming the same path share it.
  std::map<std::string, std::shared_ptr<VerdictStore>> stores;
  for (size_t i = 0; i < config_->listeners.size(); ++i) {
    const auto& l = *config_->listeners[i];
    if (l.store_path.empty()) continue;
    auto& store = stores[l.store_path];
    if (!store) {
      VerdictStoreOptions options;
      options.path = l.store_path;
      options.retention_time = l.store_retention;
      options.cleanup_interval = l.store_cleanup_interval;
      options.memory_records = l.store_memory_records;
      store = OpenVerdictStore(options, logger_.get());
    }
    states_[i]->store = store;
  }
  // One lookup table for the process: sessions from one client on different
  // workers share a DNS lookup. Resolver settings are read here, at start.
  auto dns_table = MakeDnsLookupTable(config_->dns);
  for (unsigned w = 0; w < config_->workers; ++w) {
    auto worker = std::make_unique<Worker>(w, *logger_, *this);
    worker->SetDnsTable(dns_table);
    for (size_t i = 0; i < config_->listeners.size(); ++i) {
      worker->Listen(i, config_->listeners[i]->address);
    }
    workers_.push_back(std::move(worker));
  }
  for (auto& w : workers_) w->Start();
  for (const auto& l : config_->listeners) {
    logger_->Logf("mxscreen", "listener %s on %s with %zu filters, %u workers", l->name.c_str(),
                  l->address.ToString().c_str(), l->chain.size(), config_->workers);
  }
}

void Server::Run() {
  asio::io_context signals_io;
  asio::signal_set signals(signals_io, SIGTERM, SIGINT, SIGHUP);
  signals.add(SIGUSR1);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
          Reload();
        } else if (sig == SIGUSR1) {
          logger_->Reopen();
        } else {
          logger_->Logf("mxscreen", "terminating on signal %d", sig);
          signals_io.stop();
          return;
        }
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);
  signals_io.run();
  Stop();
}

void Server::Stop() {
  for (auto& w : workers_) w->Stop();
  for (auto& w : workers_) w->Join();
  workers_.clear();
}

std::string Server::Apply(std::shared_ptr<const GatewayConfig> next) {
  std::lock_guard<std::mutex> lock(mu_);
  if (next->listeners.size() != config_->listeners.size() || next->workers != config_->workers) {
    return "the number of listeners or workers changed; restart to apply";
  }
  for (size_t i = 0; i < next->listeners.size(); ++i) {
    const auto& a = *next->listeners[i];
    const auto& b = *config_->listeners[i];
    if (a.address.ToString() != b.address.ToString() || a.name != b.name) {
      return "listener " + b.name + " changed its name or address; restart to apply";
    }
    if (a.store_path != b.store_path) {
      return "listener " + b.name + " changed its verdict store; restart to apply";
    }
    if (a.handoff.backends.size() != b.handoff.backends.size()) {
      auto fresh = std::make_shared<ListenerState>(a.handoff.backends.size());
      fresh->store = states_[i]->store;
      states_[i] = fresh;
    }
  }
  config_ = std::move(next);
  return "";
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

std::shared_ptr<const ListenerConfig> Server::Current(size_t index) const {
  std::lock_guard<std::mutex> lock(mu_);
  return config_->listeners[index];
}

std::shared_ptr<ListenerState> Server::State(size_t index) const {
  std::lock_guard<std::mutex> lock(mu_);
  return states_[index];
}

}  // namespace mxs
