// server: the running gateway: the workers, the live config, the listener
// slots and verdict stores that outlive config changes, and the process
// signals (TERM/INT drain and stop, HUP reloads, USR1 reopens the log file).
// Apply is the one way a new config (a reloaded file or a control-plane push)
// gets in.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/admin_handler.h"
#include "core/gateway_config.h"
#include "core/logger.h"
#include "core/worker.h"

namespace mxs {

class AdminServer;
class VerdictStore;

class Server : public AdminBackend {
 public:
  // `config_path` is re-read on SIGHUP (unless a reload handler is set).
  Server(std::shared_ptr<const GatewayConfig> config, std::shared_ptr<Logger> logger,
         std::string config_path);
  ~Server() override;

  // Opens every listener on every worker; throws std::runtime_error.
  void Start();
  // Blocks until SIGTERM or SIGINT, handling HUP and USR1 meanwhile. The
  // first TERM/INT starts a drain: every listener closes (what is already in
  // the accept queues is still served), running sessions go on until they end
  // or drain_time runs out; a second TERM/INT ends the drain at once. Then
  // the workers stop and whatever is left is closed.
  void Run();
  void Stop();

  // Swaps in a built config without dropping anything: new sessions take
  // the new chains while running ones finish on theirs; a listener whose
  // address is unchanged keeps its sockets; a new or moved listener is bound
  // on every worker before the sockets it replaces close. Nothing changes
  // when any step fails. Returns an error message, or "" on success.
  std::string Apply(std::shared_ptr<const GatewayConfig> config);

  // Replaces what SIGHUP does (a gateway fed by a control plane re-reads
  // only its bootstrap's own part).
  void SetReloadHandler(std::function<void()> handler);

  // The process now runs as `user` (core/privileges.h): a config change that
  // fails for want of root (a port below 1024, a file only root may open)
  // says so and that a restart is needed.
  void SetRunAs(std::string user);

  // Connections (sessions and relays) alive on all workers.
  size_t LiveConnections() const;
  // AdminBackend: what the admin server (started by Start when the config
  // has an admin section, changed by Apply) reads of the running gateway.
  std::string NotReadyReason() override;
  std::string ConfigDumpJson() override;
  std::shared_ptr<VerdictStore> StoreOf(const std::string& name, std::string* listener,
                                        std::string* error) override;

 private:
  void Reload();
  // The first TERM/INT: closes the listeners and refuses config changes.
  // Returns the drain time of the running config.
  Seconds StartDrain(int sig);
  // The store at the listener's path, opened on first use and kept open for
  // the life of the process (RocksDB allows one writer per directory, and
  // sessions of an older config may still hold it). Throws runtime_error.
  std::shared_ptr<VerdictStore> StoreFor(const ListenerConfig& l);

  std::string config_path_;
  std::shared_ptr<Logger> logger_;
  mutable std::mutex mu_;
  std::shared_ptr<const GatewayConfig> config_;
  // Parallel to config_->listeners.
  std::vector<std::shared_ptr<ListenerSlot>> slots_;
  std::map<std::string, std::shared_ptr<VerdictStore>> stores_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::function<void()> reload_handler_;
  std::string run_as_;
  bool stopped_ = false;
  bool draining_ = false;
  // Set (without the lock) as soon as the gateway starts to stop, so /ready
  // answers 503 at once, also while a drain holds the lock.
  std::atomic<bool> stopping_{false};
  // Replaced by Apply under mu_, but only ever destroyed outside it: its
  // thread may be waiting for mu_ in one of the AdminBackend calls.
  std::unique_ptr<AdminServer> admin_;
};

}  // namespace mxs
