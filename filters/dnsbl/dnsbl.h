// dnsbl: postscreen's DNSBL/DNSWL test. At the start of the tests before the
// greeting it asks every distinct list about the client, in parallel, through
// the worker's resolver; each answer is logged as postfix/dnsblog does. When
// the last list has answered (or timed out, or the greet wait ends first) the
// weights of the matching entries add up to a score: at or above the
// threshold it fails ("DNSBL rank"), at or below a negative allowlist
// threshold it passes every other test (DNSWL), otherwise it passes; the pass
// TTL comes from the answers. The entry's action decides what a failure means.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/dns_resolver.h"
#include "core/filter.h"
#include "core/metrics.h"
#include "filters/dnsbl/site.h"

namespace mxs::dnsbl {

using Seconds = std::chrono::seconds;

// The built config, shared by every session of a chain.
struct Settings {
  std::vector<Site> sites;
  // The distinct list domains, in the order first named; site_domain[i] is
  // the index of sites[i]'s domain here.
  std::vector<std::string> domains;
  std::vector<size_t> site_domain;
  int threshold = 1;
  int allowlist_threshold = 0;                   // 0: off
  std::map<std::string, std::string> reply_map;  // lower-case domain -> shown
  Seconds timeout{10};
  Seconds min_ttl{60};
  Seconds max_ttl{3600};
  // One warning per list about error-code answers (they repeat on every
  // query while a list refuses this resolver; once says it).
  std::unique_ptr<std::atomic<bool>[]> error_code_warned;
  // Per domain: its metric series (mxs_dnsbl_*{list}), looked up in Index().
  struct ListMetrics {
    metrics::Counter* lookups;
    metrics::Counter* hits;
    metrics::Histogram* duration;
  };
  std::vector<ListMetrics> list_metrics;

  // Fills domains/site_domain (and the warning flags and metrics) from sites.
  void Index();
};

// What the answers add up to.
struct Score {
  int score = 0;
  // The matching list with the largest weight (first named on a tie), as the
  // reply names it (through the reply map); empty when nothing matched.
  std::string reply_domain;
  Seconds ttl{0};  // the pass TTL, clamped
};

// Scores the answers, one per Settings::domains entry (null: no answer).
Score ScoreAnswers(const Settings& s, const std::vector<const DnsAnswer*>& answers);

// The smallest TTL of the answers clamped to [min, max]; max when no answer
// carried one (postscreen's behaviour when nothing answered in time).
Seconds ClampTtl(std::optional<uint32_t> smallest, Seconds min, Seconds max);

class DnsblFilter : public Filter {
 public:
  explicit DnsblFilter(std::shared_ptr<const Settings> settings) : s_(std::move(settings)) {}
  Verdict OnBeforeGreeting(SessionCallbacks& cb) override;
  Verdict OnGreetWaitEnd(SessionCallbacks& cb) override;
  void OnSessionEnd(SessionCallbacks& cb) override;

 private:
  void OnAnswer(size_t domain, const DnsAnswer& answer);
  // Logs the rank line when failing; the verdict for the answers so far.
  Verdict Conclude();

  std::shared_ptr<const Settings> s_;
  SessionCallbacks* cb_ = nullptr;  // valid until OnSessionEnd
  std::vector<std::unique_ptr<DnsLookup>> lookups_;
  std::vector<std::optional<DnsAnswer>> answers_;
  std::chrono::steady_clock::time_point started_;  // when the queries went out
  size_t outstanding_ = 0;
  bool concluded_ = false;
};

}  // namespace mxs::dnsbl
