// Fuzz target: what a gateway does with a push it receives (the discovery
// response's config, wire format) and with its push cache file at start:
// decode, merge with the local bootstrap, build without touching files.
// Any input must end in a refusal or a config, never a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/config_error.h"
#include "core/control_client.h"
#include "core/gateway_config.h"
#include "mxscreen/control/v1/discovery.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mxscreen::control::v1::DiscoveryResponse resp;
  if (!resp.ParseFromArray(data, static_cast<int>(size))) return 0;
  mxs::config::v1::Bootstrap local;
  local.set_node_id("fuzz");
  local.mutable_control_plane()->set_address("127.0.0.1:1");
  local.mutable_control_plane()->set_fleet("eu");
  local.mutable_control_plane()->set_cache_path("/nonexistent/cache");
  (*local.mutable_control_plane()->mutable_listener_addresses())["smtp"] = "127.0.0.1:2525";
  try {
    mxs::BuildGatewayConfig(mxs::MergePushedConfig(local, resp.config()), "/nonexistent",
                            /*read_local_files=*/false);
  } catch (const mxs::ConfigError&) {
  }
  return 0;
}
