// dnsbl: the DNSBL test's lookups, answer logging and scoring (see dnsbl.h).
// Log lines written here:
//   postfix/dnsblog: "addr %s listed by domain %s as %s" for every answer
//     address (below the threshold too), as Postfix's dnsblog writes them;
//   postfix/dnsblog: "warning: dnsblog_query: lookup error for DNS query %s: %s"
//     for a server failure or an answer that cannot be parsed (scores 0);
//   postscreen: "warning: dnsblog reply timeout %ds for %s" for a list that
//     did not answer within `timeout` (scores 0);
//   postscreen: "warning: dnsbl %s answered %s (an error code, not a listing) ..."
//     once per list: 127.255.255.x counts only where a filter names it;
//   postscreen: "DNSBL rank %d for [%s]:%s" at or above the threshold.
#include "filters/dnsbl/dnsbl.h"

#include <algorithm>
#include <climits>
#include <cstdio>

namespace mxs::dnsbl {

void Settings::Index() {
  domains.clear();
  site_domain.clear();
  for (const auto& site : sites) {
    auto it = std::find(domains.begin(), domains.end(), site.domain);
    site_domain.push_back(static_cast<size_t>(it - domains.begin()));
    if (it == domains.end()) domains.push_back(site.domain);
  }
  error_code_warned = std::make_unique<std::atomic<bool>[]>(domains.size());
  auto& r = metrics::Registry::Get();
  list_metrics.clear();
  for (const auto& d : domains) {
    metrics::Labels l = {{"list", d}};
    list_metrics.push_back(
        {&r.GetCounter("mxs_dnsbl_lookups_total", "DNSBL/DNSWL queries sent, per list.", l),
         &r.GetCounter("mxs_dnsbl_hits_total",
                       "DNSBL/DNSWL answers that listed the client (an address a site of the "
                       "list matches), per list.",
                       l),
         &r.GetHistogram("mxs_dnsbl_lookup_duration_seconds",
                         "Time from a DNSBL/DNSWL query to its answer (not found and timeouts "
                         "included), per list.",
                         l, metrics::LatencyBuckets())});
  }
}

Seconds ClampTtl(std::optional<uint32_t> smallest, Seconds min, Seconds max) {
  if (!smallest) return max;
  Seconds t(*smallest);
  if (t < min) t = min;
  if (t > max) t = max;
  return t;
}

Score ScoreAnswers(const Settings& s, const std::vector<const DnsAnswer*>& answers) {
  Score out;
  std::optional<uint32_t> smallest;
  for (const DnsAnswer* a : answers) {
    if (a && a->ttl_known &&
        (a->status == DnsAnswer::Status::kFound || a->status == DnsAnswer::Status::kNotFound)) {
      smallest = smallest ? std::min(*smallest, a->ttl) : a->ttl;
    }
  }
  int top_weight = INT_MIN;
  const std::string* top = nullptr;
  for (size_t i = 0; i < s.sites.size(); ++i) {
    size_t d = s.site_domain[i];
    const DnsAnswer* a = d < answers.size() ? answers[d] : nullptr;
    if (!a || a->status != DnsAnswer::Status::kFound) continue;
    const Site& site = s.sites[i];
    // An entry adds its weight once, whatever number of addresses match.
    if (!std::any_of(a->ipv4.begin(), a->ipv4.end(),
                     [&](uint32_t addr) { return site.Matches(addr); })) {
      continue;
    }
    out.score += site.weight;
    if (site.weight > top_weight) {
      top_weight = site.weight;
      top = &site.domain;
    }
  }
  if (top) {
    auto mapped = s.reply_map.find(*top);
    out.reply_domain = mapped != s.reply_map.end() ? mapped->second : *top;
  }
  out.ttl = ClampTtl(smallest, s.min_ttl, s.max_ttl);
  return out;
}

Verdict DnsblFilter::OnBeforeGreeting(SessionCallbacks& cb) {
  cb_ = &cb;
  DnsResolver* resolver = cb.dns_resolver();
  answers_.assign(s_->domains.size(), std::nullopt);
  if (!resolver || s_->domains.empty()) {
    cb.Log("warning: dnsbl: no DNS resolver, client %s not looked up", cb.client_tag());
    concluded_ = true;
    return Conclude();
  }
  std::string reversed = ReverseName(cb.client().address);
  auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(s_->timeout);
  outstanding_ = s_->domains.size();
  started_ = std::chrono::steady_clock::now();
  for (size_t d = 0; d < s_->domains.size(); ++d) {
    s_->list_metrics[d].lookups->Inc();
    // The callback runs later on this session's thread; the handle in
    // lookups_ dies with this filter, which cancels it.
    lookups_.push_back(resolver->LookupA(reversed + "." + s_->domains[d], timeout,
                                         [this, d](const DnsAnswer& a) { OnAnswer(d, a); }));
  }
  return Verdict::Pending();
}

void DnsblFilter::OnAnswer(size_t d, const DnsAnswer& a) {
  if (concluded_ || answers_[d]) return;
  answers_[d] = a;
  const std::string& domain = s_->domains[d];
  const Settings::ListMetrics& m = s_->list_metrics[d];
  m.duration->Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
  if (a.status == DnsAnswer::Status::kFound) {
    bool listed = false;
    for (size_t i = 0; i < s_->sites.size() && !listed; ++i) {
      if (s_->site_domain[i] != d) continue;
      for (uint32_t addr : a.ipv4) listed |= s_->sites[i].Matches(addr);
    }
    if (listed) m.hits->Inc();
  }
  std::string client = cb_->client().address.ToString();
  char line[512];
  switch (a.status) {
    case DnsAnswer::Status::kFound:
      for (uint32_t addr : a.ipv4) {
        std::string as = FormatIpv4(addr);
        if (IsErrorCode(addr)) {
          bool named = false;
          for (size_t i = 0; i < s_->sites.size(); ++i) {
            named |= s_->site_domain[i] == d && s_->sites[i].FilterMatches(addr);
          }
          if (!named) {
            if (!s_->error_code_warned[d].exchange(true)) {
              cb_->Log(
                  "warning: dnsbl %s answered %s for %s (an error code, not a listing; "
                  "is the list refusing this resolver? use a local caching resolver)",
                  domain.c_str(), as.c_str(), client.c_str());
            }
            continue;
          }
        }
        std::snprintf(line, sizeof line, "addr %s listed by domain %s as %s", client.c_str(),
                      domain.c_str(), as.c_str());
        cb_->LogAs("dnsblog", line);
      }
      break;
    case DnsAnswer::Status::kNotFound:
      break;
    case DnsAnswer::Status::kTimeout:
      cb_->Log("warning: dnsblog reply timeout %llds for %s",
               static_cast<long long>(s_->timeout.count()), domain.c_str());
      break;
    case DnsAnswer::Status::kError:
      std::snprintf(line, sizeof line,
                    "warning: dnsblog_query: lookup error for DNS query %s.%s: %s",
                    ReverseName(cb_->client().address).c_str(), domain.c_str(), a.error.c_str());
      cb_->LogAs("dnsblog", line);
      break;
  }
  if (--outstanding_ == 0) {
    concluded_ = true;
    cb_->Resume(this, Conclude());
  }
}

Verdict DnsblFilter::Conclude() {
  std::vector<const DnsAnswer*> answers;
  for (const auto& a : answers_) answers.push_back(a ? &*a : nullptr);
  Score sc = ScoreAnswers(*s_, answers);
  if (sc.score >= s_->threshold) {
    cb_->Log("DNSBL rank %d for %s", sc.score, cb_->client_tag());
    return Verdict::Fail("5.7.1 Service unavailable; client [" + cb_->client().address.ToString() +
                         "] blocked using " + sc.reply_domain);
  }
  if (s_->allowlist_threshold < 0 && sc.score <= s_->allowlist_threshold) {
    return Verdict::AllowOthers(sc.ttl);
  }
  return Verdict::Pass(sc.ttl);
}

Verdict DnsblFilter::OnGreetWaitEnd(SessionCallbacks& cb) {
  cb_ = &cb;
  if (concluded_) return Verdict::Continue();
  // Lists that did not answer by now score 0 (postscreen does the same).
  concluded_ = true;
  lookups_.clear();
  return Conclude();
}

void DnsblFilter::OnSessionEnd(SessionCallbacks&) {
  // No callback may reach a session that is going away.
  lookups_.clear();
  concluded_ = true;
}

}  // namespace mxs::dnsbl
