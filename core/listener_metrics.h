// listener_metrics: the metric series one listener records into, looked up
// once when its config is built (BuildGatewayConfig) so that a session only
// follows pointers: recording is one relaxed atomic add, with no map lookup
// or lock per connection. Series outlive configs (metrics never go away), so
// a new config of the same listener finds the same counters again.
// Names and labels are the shared ones of docs/operations.md.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/metrics.h"

namespace mxs {

struct ListenerConfig;

// How a connection ended, one per connection (mxs_connection_outcomes_total).
enum class SessionOutcome : uint8_t {
  kPassNew,       // handed to the backend after screening
  kPassOld,       // handed off on passes remembered in the verdict store
  kAllowlisted,   // a connect-time allow (access list permit)
  kDenylisted,    // a connect-time deny acted on (enforce or drop)
  kRejected,      // a test failed under enforce: RCPTs got 550
  kDropped,       // a test failed under drop: 521 and close
  kHangup,        // the client left before a conclusion
  kLimit,         // a limit (421): connections per client, queues, relays
  kListenerFail,  // the listener phase refused it (bad PROXY header)
  kCount,
};
const char* SessionOutcomeName(SessionOutcome o);

struct FilterMetrics {
  metrics::Counter* pass = nullptr;
  metrics::Counter* fail = nullptr;
  metrics::Counter* would_fail = nullptr;  // a failure under `ignore` (dry-run)
  metrics::Counter* cached = nullptr;      // a pass taken from the verdict store
};

struct ListenerMetrics {
  std::string listener;
  metrics::Gauge* active = nullptr;
  metrics::Counter* total = nullptr;
  std::array<metrics::Counter*, static_cast<size_t>(SessionOutcome::kCount)> outcomes{};
  metrics::Counter* handoffs = nullptr;
  metrics::Counter* handoff_failures = nullptr;
  metrics::Counter* lookup_hit = nullptr;
  metrics::Counter* lookup_miss = nullptr;
  metrics::Gauge* stress = nullptr;  // 0/1
  // Parallel to ListenerConfig::chain.
  std::vector<FilterMetrics> filters;

  void Outcome(SessionOutcome o) const { outcomes[static_cast<size_t>(o)]->Inc(); }
  // One rejection, by the reply's 3-digit code ("421 4.7.0 ..."). The usual
  // codes are looked up in advance; another one costs a registry lookup.
  void Reject(std::string_view reply) const;

 private:
  friend ListenerMetrics MakeListenerMetrics(const ListenerConfig& l);
  metrics::Counter* r421_ = nullptr;
  metrics::Counter* r450_ = nullptr;
  metrics::Counter* r521_ = nullptr;
  metrics::Counter* r550_ = nullptr;
};

ListenerMetrics MakeListenerMetrics(const ListenerConfig& l);

// Listener-independent series: mxs_config_info{version} = 1 for the running
// config (the previous version's series goes to 0).
void SetConfigVersionMetric(const std::string& version);

}  // namespace mxs
