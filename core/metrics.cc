// metrics: the registry's bookkeeping and the Prometheus text rendering.
#include "core/metrics.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>

namespace mxs::metrics {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  std::sort(bounds_.begin(), bounds_.end());
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double v) {
  // lower_bound: a value equal to a bound belongs to that bound's bucket (le).
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  if (v > 0 && std::isfinite(v)) {
    sum_micros_.fetch_add(static_cast<uint64_t>(std::llround(v * 1e6)), std::memory_order_relaxed);
  }
}

std::vector<uint64_t> Histogram::bucket_counts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

double Histogram::sum() const {
  return static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
}

std::vector<double> LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

Registry& Registry::Get() {
  static Registry* registry = new Registry();  // never destroyed: workers outlive main's statics
  return *registry;
}

static std::string EscapeLabelValue(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string RenderLabels(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ',';
    out += labels[i].first;
    out += "=\"";
    out += EscapeLabelValue(labels[i].second);
    out += '"';
  }
  out += '}';
  return out;
}

Registry::Series* Registry::FindOrAdd(const std::string& name, const std::string& help, Type type,
                                      const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, added] = families_.try_emplace(name);
  Family& family = it->second;
  if (added) {
    family.type = type;
    family.help = help;
  } else if (family.type != type) {
    assert(false && "metric registered with two types");
    detached_.push_back(std::make_unique<Series>());
    return detached_.back().get();
  }
  auto [sit, sadded] = family.series.try_emplace(RenderLabels(labels));
  if (sadded) sit->second.labels = labels;
  return &sit->second;
}

Counter& Registry::GetCounter(const std::string& name, const std::string& help,
                              const Labels& labels) {
  Series* s = FindOrAdd(name, help, Type::kCounter, labels);
  std::lock_guard<std::mutex> lock(mu_);
  if (!s->counter) s->counter = std::make_unique<Counter>();
  return *s->counter;
}

Gauge& Registry::GetGauge(const std::string& name, const std::string& help, const Labels& labels) {
  Series* s = FindOrAdd(name, help, Type::kGauge, labels);
  std::lock_guard<std::mutex> lock(mu_);
  if (!s->gauge) s->gauge = std::make_unique<Gauge>();
  return *s->gauge;
}

Histogram& Registry::GetHistogram(const std::string& name, const std::string& help,
                                  const Labels& labels, const std::vector<double>& bounds) {
  Series* s = FindOrAdd(name, help, Type::kHistogram, labels);
  std::lock_guard<std::mutex> lock(mu_);
  if (!s->histogram) s->histogram = std::make_unique<Histogram>(bounds);
  return *s->histogram;
}

void Registry::SetGaugeCallback(const std::string& name, const std::string& help,
                                const Labels& labels, std::function<double()> read) {
  Series* s = FindOrAdd(name, help, Type::kGauge, labels);
  std::lock_guard<std::mutex> lock(mu_);
  s->read = std::move(read);
}

// Prometheus wants integers without an exponent and +Inf spelled out.
static std::string FormatValue(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.6g", v);
  }
  return buf;
}

// Labels plus one more (a histogram's "le"), rendered.
static std::string WithLabel(const Labels& labels, const char* name, const std::string& value) {
  Labels l = labels;
  l.emplace_back(name, value);
  return RenderLabels(l);
}

static const char* TypeName(int t) {
  switch (t) {
    case 0:
      return "counter";
    case 1:
      return "gauge";
    default:
      return "histogram";
  }
}

std::string Registry::RenderText() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    if (family.series.empty()) continue;
    out += "# HELP " + name + " " + family.help + "\n";
    out += "# TYPE " + name + " " + TypeName(static_cast<int>(family.type)) + "\n";
    for (const auto& [key, s] : family.series) {
      if (s.histogram) {
        const Histogram& h = *s.histogram;
        std::vector<uint64_t> counts = h.bucket_counts();
        uint64_t cumulative = 0;
        for (size_t i = 0; i < h.bounds().size(); ++i) {
          cumulative += counts[i];
          out += name + "_bucket" + WithLabel(s.labels, "le", FormatValue(h.bounds()[i])) + " " +
                 std::to_string(cumulative) + "\n";
        }
        cumulative += counts.back();
        out += name + "_bucket" + WithLabel(s.labels, "le", "+Inf") + " " +
               std::to_string(cumulative) + "\n";
        out += name + "_sum" + key + " " + FormatValue(h.sum()) + "\n";
        // The count is the buckets' total, so a scrape never sees them disagree.
        out += name + "_count" + key + " " + std::to_string(cumulative) + "\n";
      } else if (s.read) {
        out += name + key + " " + FormatValue(s.read()) + "\n";
      } else if (s.counter) {
        out += name + key + " " + std::to_string(s.counter->value()) + "\n";
      } else if (s.gauge) {
        out += name + key + " " + std::to_string(s.gauge->value()) + "\n";
      }
    }
  }
  return out;
}

double Registry::Value(const std::string& name, const Labels& labels) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return -1;
  auto sit = it->second.series.find(RenderLabels(labels));
  if (sit == it->second.series.end()) return -1;
  const Series& s = sit->second;
  if (s.histogram) return static_cast<double>(s.histogram->count());
  if (s.read) return s.read();
  if (s.counter) return static_cast<double>(s.counter->value());
  if (s.gauge) return static_cast<double>(s.gauge->value());
  return -1;
}

std::vector<std::pair<Labels, double>> Registry::Collect(const std::string& name) const {
  std::vector<std::pair<Labels, double>> out;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return out;
  for (const auto& [key, s] : it->second.series) {
    double v = -1;
    if (s.histogram) {
      v = static_cast<double>(s.histogram->count());
    } else if (s.read) {
      v = s.read();
    } else if (s.counter) {
      v = static_cast<double>(s.counter->value());
    } else if (s.gauge) {
      v = static_cast<double>(s.gauge->value());
    }
    out.emplace_back(s.labels, v);
  }
  return out;
}

}  // namespace mxs::metrics
