// server: the running gateway: the workers, the live config, the listener
// state that outlives config changes, and the process signals (TERM/INT stop,
// HUP reloads a static config file, USR1 reopens the log file).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/gateway_config.h"
#include "core/logger.h"
#include "core/worker.h"

namespace mxs {

class Server : public ListenerSource {
 public:
  // `config_path` is re-read on SIGHUP.
  Server(std::shared_ptr<const GatewayConfig> config, std::shared_ptr<Logger> logger,
         std::string config_path);
  ~Server() override;

  // Opens every listener on every worker; throws std::runtime_error.
  void Start();
  // Blocks until SIGTERM or SIGINT, handling HUP and USR1 meanwhile.
  void Run();
  void Stop();

  // Builds `config` and, if it differs only in what sessions use, swaps it in
  // for new sessions. Returns an error message, or "" on success.
  std::string Apply(std::shared_ptr<const GatewayConfig> config);

  std::shared_ptr<const ListenerConfig> Current(size_t index) const override;
  std::shared_ptr<ListenerState> State(size_t index) const override;

 private:
  void Reload();

  std::string config_path_;
  std::shared_ptr<Logger> logger_;
  mutable std::mutex mu_;
  std::shared_ptr<const GatewayConfig> config_;
  std::vector<std::shared_ptr<ListenerState>> states_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace mxs
