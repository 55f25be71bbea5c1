// metrics: the process-wide counters, gauges and histograms that the admin
// server's /metrics renders in Prometheus's text format. Every part of the
// gateway (session, hand-off, filters, plugins) records into one Registry.
//
// Cost model: a metric is looked up by name and labels once (under a lock,
// when a config is built or a listener starts) and the caller keeps the
// reference; recording is then one relaxed atomic operation, safe from any
// worker thread. Metrics are never removed, so references stay valid for the
// life of the process (a config change that drops a filter leaves its series
// at their last values, as Prometheus expects of a counter).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace mxs::metrics {

// Label name/value pairs in the order they are rendered.
using Labels = std::vector<std::pair<std::string, std::string>>;

// A value that only goes up (Prometheus counter).
class Counter {
 public:
  void Inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down (Prometheus gauge).
class Gauge {
 public:
  void Add(int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  void Set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Observations counted into fixed buckets (upper bounds, ascending), with
// their count and sum (Prometheus histogram).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  // Per bucket (non-cumulative), then the overflow bucket.
  std::vector<uint64_t> bucket_counts() const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};  // the sum in millionths, kept exact
};

// Latency buckets in seconds, from 0.5 ms to 10 s.
std::vector<double> LatencyBuckets();

class Registry {
 public:
  // The process's registry.
  static Registry& Get();

  // Finds or creates the series `name{labels}`. `help` is kept from the
  // first call for a name. A name used with two different types is a
  // programming error: the second type's call aborts in debug builds and
  // gets a detached metric (recorded, never rendered) in release builds.
  Counter& GetCounter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& GetGauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& GetHistogram(const std::string& name, const std::string& help, const Labels& labels,
                          const std::vector<double>& bounds);

  // A gauge whose value is read when /metrics is rendered (store size,
  // active connections summed over listeners). Replaces an earlier callback
  // of the same series. `read` runs under the registry's lock: it must not
  // call the registry, and must stay valid for the life of the process (or
  // be replaced before what it reads goes away).
  void SetGaugeCallback(const std::string& name, const std::string& help, const Labels& labels,
                        std::function<double()> read);

  // The whole registry in Prometheus text exposition format 0.0.4.
  std::string RenderText() const;

  // One series' current value (a counter's or gauge's; a histogram's count),
  // or -1 when there is no such series. For tests and the dashboard.
  double Value(const std::string& name, const Labels& labels = {}) const;

  // Every series of `name` with its labels and value (as Value reads it),
  // in rendering order; empty when there is no such metric. For the admin
  // server's JSON summary, which must show the numbers /metrics shows.
  std::vector<std::pair<Labels, double>> Collect(const std::string& name) const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    Labels labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
    std::function<double()> read;
  };
  struct Family {
    Type type;
    std::string help;
    std::map<std::string, Series> series;  // by rendered label set
  };
  Series* FindOrAdd(const std::string& name, const std::string& help, Type type,
                    const Labels& labels);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
  std::vector<std::unique_ptr<Series>> detached_;
};

// `{a="x",b="y"}` with Prometheus escaping, or "" for no labels.
std::string RenderLabels(const Labels& labels);

}  // namespace mxs::metrics
