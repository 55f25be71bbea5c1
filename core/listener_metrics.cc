// listener_metrics: registration of a listener's series (see the header).
#include "core/listener_metrics.h"

#include <mutex>

#include "core/gateway_config.h"

namespace mxs {
namespace {

using metrics::Registry;

constexpr const char* kOutcomeNames[] = {"pass_new",   "pass_old", "allowlisted",
                                         "denylisted", "rejected", "dropped",
                                         "hangup",     "limit",    "listener_fail"};
static_assert(sizeof kOutcomeNames / sizeof kOutcomeNames[0] ==
              static_cast<size_t>(SessionOutcome::kCount));

constexpr const char* kRejectionsHelp =
    "Rejecting replies sent to clients, by SMTP reply code (421 limits, 521 drop, 550 enforce).";

metrics::Counter& Rejections(const std::string& listener, const std::string& code) {
  return Registry::Get().GetCounter("mxs_rejections_total", kRejectionsHelp,
                                    {{"listener", listener}, {"code", code}});
}

}  // namespace

const char* SessionOutcomeName(SessionOutcome o) {
  size_t i = static_cast<size_t>(o);
  return i < static_cast<size_t>(SessionOutcome::kCount) ? kOutcomeNames[i] : "?";
}

void ListenerMetrics::Reject(std::string_view reply) const {
  std::string_view code = reply.substr(0, 3);
  if (code == "421") return r421_->Inc();
  if (code == "550") return r550_->Inc();
  if (code == "521") return r521_->Inc();
  if (code == "450") return r450_->Inc();
  if (code.size() == 3 && code.find_first_not_of("0123456789") == std::string_view::npos) {
    Rejections(listener, std::string(code)).Inc();
  }
}

ListenerMetrics MakeListenerMetrics(const ListenerConfig& l) {
  Registry& r = Registry::Get();
  ListenerMetrics m;
  m.listener = l.name;
  const metrics::Labels ll = {{"listener", l.name}};
  m.active = &r.GetGauge("mxs_connections_active",
                         "Client connections open now (being screened or relayed).", ll);
  m.total = &r.GetCounter("mxs_connections_total", "Client connections accepted.", ll);
  for (size_t i = 0; i < m.outcomes.size(); ++i) {
    m.outcomes[i] = &r.GetCounter(
        "mxs_connection_outcomes_total",
        "Connections by how they ended (pass_new, pass_old, allowlisted, denylisted, rejected, "
        "dropped, hangup, limit, listener_fail).",
        {{"listener", l.name}, {"outcome", kOutcomeNames[i]}});
  }
  m.handoffs = &r.GetCounter("mxs_handoffs_total",
                             "Clients handed to a backend MTA (the backend connection is up).", ll);
  m.handoff_failures = &r.GetCounter("mxs_handoff_failures_total",
                                     "Hand-offs that failed: no backend MTA was reachable.", ll);
  const char* lookups_help = "Verdict store lookups at connect, by result (hit: a record found).";
  m.lookup_hit = &r.GetCounter("mxs_verdict_lookups_total", lookups_help,
                               {{"listener", l.name}, {"result", "hit"}});
  m.lookup_miss = &r.GetCounter("mxs_verdict_lookups_total", lookups_help,
                                {{"listener", l.name}, {"result", "miss"}});
  m.stress = &r.GetGauge("mxs_stress_mode",
                         "1 while the listener is in stress mode (pre-queue near its limit).", ll);
  m.r421_ = &Rejections(l.name, "421");
  m.r450_ = &Rejections(l.name, "450");
  m.r521_ = &Rejections(l.name, "521");
  m.r550_ = &Rejections(l.name, "550");
  const char* verdicts_help =
      "Filter verdicts: pass, fail (acted on), would_fail (a failure under the ignore action: "
      "dry-run), cached (a pass found in the verdict store).";
  for (const auto& e : l.chain) {
    auto counter = [&](const char* verdict) {
      return &r.GetCounter("mxs_filter_verdicts_total", verdicts_help,
                           {{"listener", l.name}, {"filter", e.name}, {"verdict", verdict}});
    };
    m.filters.push_back(
        {counter("pass"), counter("fail"), counter("would_fail"), counter("cached")});
  }
  return m;
}

void SetConfigVersionMetric(const std::string& version) {
  static std::mutex mu;
  static std::string current;
  std::lock_guard<std::mutex> lock(mu);
  if (version == current) return;
  const char* help =
      "The running config's version (the control plane's version_info for a "
      "pushed config, else a hash of the config); 1 for the running one.";
  if (!current.empty()) {
    Registry::Get().GetGauge("mxs_config_info", help, {{"version", current}}).Set(0);
  }
  Registry::Get().GetGauge("mxs_config_info", help, {{"version", version}}).Set(1);
  current = version;
}

}  // namespace mxs
