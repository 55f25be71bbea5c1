// server: the running gateway: the workers, the live config, the listener
// slots and verdict stores that outlive config changes, and the process
// signals (TERM/INT stop, HUP reloads, USR1 reopens the log file). Apply is
// the one way a new config (a reloaded file or a control-plane push) gets in.
#pragma once

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
  // Blocks until SIGTERM or SIGINT, handling HUP and USR1 meanwhile.
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

  // AdminBackend: what the admin server (started by Start when the config
  // has an admin section, changed by Apply) reads of the running gateway.
  std::string NotReadyReason() override;
  std::string ConfigDumpJson() override;
  std::shared_ptr<VerdictStore> StoreOf(const std::string& name, std::string* listener,
                                        std::string* error) override;

 private:
  void Reload();
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
  bool stopped_ = false;
  // Replaced by Apply under mu_, but only ever destroyed outside it: its
  // thread may be waiting for mu_ in one of the AdminBackend calls.
  std::unique_ptr<AdminServer> admin_;
};

}  // namespace mxs
