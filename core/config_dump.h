// config_dump: the running config as JSON for the admin server's
// /config_dump: the Bootstrap as given, with the defaults that
// BuildGatewayConfig fills in written out (hostname, workers, listener
// names, banners, limits, timers, store settings, filter actions), so what
// an operator reads is what the gateway runs. Secrets never appear: the
// config holds only paths to key and token files, never their contents.
#pragma once

#include <string>

#include "core/gateway_config.h"

namespace mxs {

// The effective Bootstrap (see above).
config::v1::Bootstrap EffectiveBootstrap(const GatewayConfig& config);
// It as indented JSON (protobuf's JSON mapping, every field printed).
std::string ConfigDumpJson(const GatewayConfig& config);

}  // namespace mxs
