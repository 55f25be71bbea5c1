// waiting_admin_backend: what the admin server answers for a control-plane
// gateway that has no config yet (no push cache, no listeners in its file):
// alive (/healthz 200) but not ready (/ready 503 saying what it waits for),
// /metrics as usual, no store to read. Without it such a gateway would have
// no admin server at all until the first push, and an orchestrator's
// liveness probe would restart it while it waits (core/main.cc).
#pragma once

#include <memory>
#include <string>

#include "core/admin_handler.h"
#include "core/json_string.h"

namespace mxs {

class WaitingAdminBackend : public AdminBackend {
 public:
  // `waiting_for`: "the first config of fleet eu from 127.0.0.1:18000".
  explicit WaitingAdminBackend(std::string waiting_for)
      : reason_("waiting for " + std::move(waiting_for)) {}

  std::string NotReadyReason() override { return reason_; }
  std::string ConfigDumpJson() override {
    return "{\"error\":" + JsonString("no config yet: " + reason_) + "}\n";
  }
  std::shared_ptr<VerdictStore> StoreOf(const std::string&, std::string*,
                                        std::string* error) override {
    *error = "no config yet: " + reason_;
    return nullptr;
  }

 private:
  std::string reason_;
};

}  // namespace mxs
