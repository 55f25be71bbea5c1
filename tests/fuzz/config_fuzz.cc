// Fuzz target: the config parser (YAML/JSON -> protobuf -> built config).
// Any input must end in a ConfigError or a config, never a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/config_error.h"
#include "core/gateway_config.h"
#include "core/proto_yaml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    mxs::config::v1::Bootstrap b;
    mxs::ParseConfigText(text, &b, nullptr);
    mxs::BuildGatewayConfig(b, "/nonexistent");
  } catch (const mxs::ConfigError&) {
  }
  return 0;
}
