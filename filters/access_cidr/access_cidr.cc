// access_cidr: the lookup and the ALLOWLISTED/DENYLISTED log lines.
#include "filters/access_cidr/access_cidr.h"

namespace mxs::access_cidr {

std::optional<TableAction> AccessList::Decide(const IpAddress& addr) const {
  for (const auto& e : entries_) {
    if (std::holds_alternative<MyNetworks>(e)) {
      for (const auto& net : mynetworks_) {
        if (net.Contains(addr)) return TableAction::kPermit;
      }
      continue;
    }
    if (auto a = std::get<CidrTable>(e).Match(addr)) return a;
  }
  return std::nullopt;
}

Verdict AccessCidrFilter::OnConnect(SessionCallbacks& cb) {
  auto action = list_->Decide(cb.client().address);
  if (!action || *action == TableAction::kDunno) return Verdict::Continue();
  if (*action == TableAction::kPermit) {
    cb.Log("%s %s", cb.respectful_logging() ? "ALLOWLISTED" : "WHITELISTED", cb.client_tag());
    return Verdict::Allow();
  }
  cb.Log("%s %s", cb.respectful_logging() ? "DENYLISTED" : "BLACKLISTED", cb.client_tag());
  return Verdict::Deny("5.3.2 Service currently unavailable");
}

}  // namespace mxs::access_cidr
