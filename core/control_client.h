// control_client: the gateway's side of the config discovery stream
// (api/mxscreen/control/v1/discovery.proto). One thread holds a stream to
// the control plane, hands every pushed config to the apply callback, answers
// with an ACK or a NACK, keeps the last applied config on disk, and
// reconnects with jittered backoff when the stream ends. Mail never waits for
// it: the gateway keeps serving with the config it has. gRPC stays inside
// the .cc, so including this header is cheap.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/gateway_config.h"
#include "core/logger.h"

namespace mxs {

// The program's version, as reported to the control plane.
extern const char kMxscreenVersion[];

// A pushed config with the gateway's host-local settings on top: node_id,
// control_plane, logging and admin always come from the local bootstrap, and
// control_plane.listener_addresses replaces pushed listeners' addresses.
config::v1::Bootstrap MergePushedConfig(const config::v1::Bootstrap& local,
                                        const config::v1::Bootstrap& pushed);

// The last pushed config a gateway applied, as kept on disk.
struct PushCache {
  std::string fleet;
  std::string version;
  config::v1::Bootstrap config;  // as pushed (not merged)
};
// nullopt when the file does not exist; throws std::runtime_error when it
// exists but cannot be read or decoded.
std::optional<PushCache> LoadPushCache(const std::string& path);
// Written to a temporary file and renamed, so a crash leaves the old one.
// Returns "" or the error.
std::string SavePushCache(const std::string& path, const PushCache& cache);

class ControlClient {
 public:
  // Applies a pushed config (not yet merged) of `version`; returns "" when it
  // is now running, else why it was refused (sent as the NACK's detail).
  using ApplyFn =
      std::function<std::string(const config::v1::Bootstrap& pushed, const std::string& version)>;

  // `running_version` is the pushed version the gateway runs now ("" when
  // none, e.g. it runs its local file).
  ControlClient(ControlPlaneConfig cp, std::string node_id, std::string running_version,
                Logger& logger, ApplyFn apply);
  ~ControlClient();
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  void Start();
  // Ends the stream and the thread; the gateway keeps running.
  void Stop();
  std::string running_version() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mxs
