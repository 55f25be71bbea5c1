// admin_summary: /api/summary, the dashboard's one request. Every number is
// read from the same metrics registry /metrics renders (summed over
// listeners), so the page and a Prometheus scrape always agree; the top
// rejected clients and networks come from TopTalkers.
#include <cstdint>
#include <map>
#include <string>

#include "core/admin_handler.h"
#include "core/json_string.h"
#include "core/metrics.h"
#include "core/top_talkers.h"

namespace mxs {
namespace {

constexpr size_t kTopK = 10;

std::string Label(const metrics::Labels& labels, const std::string& name) {
  for (const auto& [k, v] : labels) {
    if (k == name) return v;
  }
  return "";
}

std::string Number(double v) {
  if (v < 0) v = 0;
  return std::to_string(static_cast<uint64_t>(v + 0.5));
}

double Sum(const std::string& metric) {
  double total = 0;
  for (const auto& [labels, v] : metrics::Registry::Get().Collect(metric)) total += v < 0 ? 0 : v;
  return total;
}

// {"value of label": sum, ...}
std::map<std::string, double> SumBy(const std::string& metric, const std::string& label) {
  std::map<std::string, double> out;
  for (const auto& [labels, v] : metrics::Registry::Get().Collect(metric)) {
    out[Label(labels, label)] += v < 0 ? 0 : v;
  }
  return out;
}

std::string Object(const std::map<std::string, double>& m) {
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : m) {
    if (!first) out += ",";
    first = false;
    out += JsonString(k) + ":" + Number(v);
  }
  return out + "}";
}

std::string TopList(const std::vector<TopTalkers::Entry>& entries, const char* key) {
  std::string out = "[";
  bool first = true;
  for (const auto& e : entries) {
    if (!first) out += ",";
    first = false;
    out += std::string("{\"") + key + "\":" + JsonString(e.key) +
           ",\"rejections\":" + std::to_string(e.count) + ",\"error\":" + std::to_string(e.error) +
           "}";
  }
  return out + "]";
}

}  // namespace

std::string AdminSummaryJson() {
  std::string out = "{";
  out += "\"connections\":{\"total\":" + Number(Sum("mxs_connections_total")) +
         ",\"active\":" + Number(Sum("mxs_connections_active")) + "}";
  out += ",\"outcomes\":" + Object(SumBy("mxs_connection_outcomes_total", "outcome"));

  // filter -> verdict -> count
  std::map<std::string, std::map<std::string, double>> filters;
  for (const auto& [labels, v] : metrics::Registry::Get().Collect("mxs_filter_verdicts_total")) {
    filters[Label(labels, "filter")][Label(labels, "verdict")] += v < 0 ? 0 : v;
  }
  out += ",\"filters\":{";
  bool first = true;
  for (const auto& [name, verdicts] : filters) {
    if (!first) out += ",";
    first = false;
    out += JsonString(name) + ":" + Object(verdicts);
  }
  out += "}";
  out += ",\"rejections\":" + Object(SumBy("mxs_rejections_total", "code"));
  out += ",\"handoffs\":{\"total\":" + Number(Sum("mxs_handoffs_total")) +
         ",\"failures\":" + Number(Sum("mxs_handoff_failures_total")) + "}";

  auto lookups = SumBy("mxs_dnsbl_lookups_total", "list");
  auto hits = SumBy("mxs_dnsbl_hits_total", "list");
  out += ",\"dnsbl\":{";
  first = true;
  for (const auto& [list, n] : lookups) {
    if (!first) out += ",";
    first = false;
    auto h = hits.find(list);
    out += JsonString(list) + ":{\"lookups\":" + Number(n) +
           ",\"hits\":" + Number(h == hits.end() ? 0 : h->second) + "}";
  }
  out += "}";
  auto store = SumBy("mxs_verdict_lookups_total", "result");
  out += ",\"verdict_store\":{\"records\":" + Number(Sum("mxs_verdict_store_records")) +
         ",\"hits\":" + Number(store["hit"]) + ",\"misses\":" + Number(store["miss"]) + "}";
  out += ",\"stress_mode\":" + Object(SumBy("mxs_stress_mode", "listener"));
  auto& top = TopTalkers::Global();
  out += ",\"top_clients\":" + TopList(top.TopClients(kTopK), "client");
  out += ",\"top_networks\":" + TopList(top.TopNetworks(kTopK), "network");
  out += "}\n";
  return out;
}

}  // namespace mxs
