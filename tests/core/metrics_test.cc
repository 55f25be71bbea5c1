// metrics_test: the registry's series, the Prometheus text it renders, and
// recording from several threads at once.
#include "core/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace mxs::metrics {
namespace {

TEST(Metrics, CounterRendersWithHelpTypeAndLabels) {
  Registry r;
  r.GetCounter("mxs_t_total", "Things seen.", {{"filter", "dnsbl"}, {"outcome", "fail"}}).Inc(3);
  r.GetCounter("mxs_t_total", "ignored help", {{"filter", "dnsbl"}, {"outcome", "fail"}}).Inc();
  EXPECT_EQ(r.RenderText(),
            "# HELP mxs_t_total Things seen.\n"
            "# TYPE mxs_t_total counter\n"
            "mxs_t_total{filter=\"dnsbl\",outcome=\"fail\"} 4\n");
  EXPECT_EQ(r.Value("mxs_t_total", {{"filter", "dnsbl"}, {"outcome", "fail"}}), 4);
  EXPECT_EQ(r.Value("mxs_t_total", {{"filter", "pregreet"}, {"outcome", "fail"}}), -1);
  EXPECT_EQ(r.Value("nope"), -1);
}

TEST(Metrics, LabelValuesAreEscaped) {
  EXPECT_EQ(RenderLabels({{"a", "x\"y\\z\nw"}}), "{a=\"x\\\"y\\\\z\\nw\"}");
  EXPECT_EQ(RenderLabels({}), "");
}

TEST(Metrics, GaugeAndCallbackGauge) {
  Registry r;
  Gauge& g = r.GetGauge("mxs_active", "Open connections.");
  g.Add(5);
  g.Add(-2);
  int64_t size = 41;
  r.SetGaugeCallback("mxs_store_records", "Records.", {{"store", "/var/db"}},
                     [&size] { return static_cast<double>(size + 1); });
  EXPECT_EQ(r.RenderText(),
            "# HELP mxs_active Open connections.\n"
            "# TYPE mxs_active gauge\n"
            "mxs_active 3\n"
            "# HELP mxs_store_records Records.\n"
            "# TYPE mxs_store_records gauge\n"
            "mxs_store_records{store=\"/var/db\"} 42\n");
}

TEST(Metrics, HistogramBucketsAreCumulativeAndInclusive) {
  Registry r;
  Histogram& h = r.GetHistogram("mxs_lat_seconds", "Latency.", {{"list", "zen"}}, {0.1, 1});
  h.Observe(0.05);
  h.Observe(0.1);  // on the bound: counted in le="0.1"
  h.Observe(0.5);
  h.Observe(3);
  EXPECT_EQ(r.RenderText(),
            "# HELP mxs_lat_seconds Latency.\n"
            "# TYPE mxs_lat_seconds histogram\n"
            "mxs_lat_seconds_bucket{list=\"zen\",le=\"0.1\"} 2\n"
            "mxs_lat_seconds_bucket{list=\"zen\",le=\"1\"} 3\n"
            "mxs_lat_seconds_bucket{list=\"zen\",le=\"+Inf\"} 4\n"
            "mxs_lat_seconds_sum{list=\"zen\"} 3.65\n"
            "mxs_lat_seconds_count{list=\"zen\"} 4\n");
  EXPECT_EQ(r.Value("mxs_lat_seconds", {{"list", "zen"}}), 4);
}

TEST(Metrics, ConcurrentIncrementsAreAllCounted) {
  Registry r;
  Counter& c = r.GetCounter("mxs_c_total", "c");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&r, &c] {
      for (int i = 0; i < 100000; ++i) c.Inc();
      for (int i = 0; i < 1000; ++i) r.GetCounter("mxs_c_total", "c").Inc();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 4u * 101000u);
}

TEST(Metrics, ReferencesStayValidAsSeriesAreAdded) {
  Registry r;
  Counter& first = r.GetCounter("mxs_x_total", "x", {{"n", "0"}});
  for (int i = 1; i < 1000; ++i) r.GetCounter("mxs_x_total", "x", {{"n", std::to_string(i)}});
  first.Inc(7);
  EXPECT_EQ(r.Value("mxs_x_total", {{"n", "0"}}), 7);
}

}  // namespace
}  // namespace mxs::metrics
