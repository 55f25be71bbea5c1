// config_error: the one error type of config loading and building. It carries
// the field path ("listeners[0].filters[1].typed_config.access_list[2]") and
// the reason, so every refusal names exactly what to fix.
#pragma once

#include <stdexcept>
#include <string>

namespace mxs {

class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string path, std::string reason)
      : std::runtime_error(path.empty() ? reason : path + ": " + reason),
        path_(std::move(path)),
        reason_(std::move(reason)) {}
  const std::string& path() const { return path_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string path_;
  std::string reason_;
};

}  // namespace mxs
