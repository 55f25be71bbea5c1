// control_server: mxscreen-control's two gRPC services on one port -- the
// discovery stream the gateways hold (ConfigDiscovery) and the operators'
// FleetAdmin -- over the durable store and the in-memory hub. It is a class
// (not just a main) so tests and the push benchmark can run it in-process.
#pragma once

#include <memory>
#include <string>

#include "core/logger.h"
#include "mxscreen/control/v1/server_config.pb.h"

namespace mxs::control {

namespace cp = ::mxscreen::control::v1;

class ControlServer {
 public:
  // Opens the store; throws std::runtime_error (path and reason) or
  // mxs::ConfigError (a bad config field).
  ControlServer(const cp::ControlPlaneConfig& config, Logger& logger);
  ~ControlServer();

  // Binds and starts serving; returns the port (useful with port 0).
  // Throws std::runtime_error when the address cannot be bound.
  int Start();
  // Ends every stream and call (the gateways reconnect to the next one).
  void Shutdown();
  // Blocks until Shutdown.
  void Wait();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Checks a control-plane config (addresses, TLS files, plaintext rules);
// throws mxs::ConfigError.
void CheckControlPlaneConfig(const cp::ControlPlaneConfig& config);

// Fleet names: 1-64 of [A-Za-z0-9._-].
bool ValidFleetName(const std::string& fleet);

}  // namespace mxs::control
