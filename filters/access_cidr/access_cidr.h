// access_cidr: the permanent access list (postscreen_access_list): an ordered
// list of permit_mynetworks and CIDR tables, judged on every connection.
// permit -> Allow (ALLOWLISTED), reject -> Deny (DENYLISTED) under the entry's
// action, which is postscreen_denylist_action; dunno stops the lookup.
#pragma once

#include <memory>
#include <variant>
#include <vector>

#include "core/filter.h"
#include "filters/access_cidr/cidr_table.h"

namespace mxs::access_cidr {

// The built list; immutable and shared by every session.
class AccessList {
 public:
  struct MyNetworks {};
  using Entry = std::variant<MyNetworks, CidrTable>;
  AccessList(std::vector<Entry> entries, std::vector<Cidr> mynetworks)
      : entries_(std::move(entries)), mynetworks_(std::move(mynetworks)) {}
  // The first decision of the list for `addr`; nullopt when nothing decided.
  std::optional<TableAction> Decide(const IpAddress& addr) const;

 private:
  std::vector<Entry> entries_;
  std::vector<Cidr> mynetworks_;
};

// The per-session filter. It holds no state of its own, so one instance
// serves every session.
class AccessCidrFilter : public Filter {
 public:
  explicit AccessCidrFilter(std::shared_ptr<const AccessList> list) : list_(std::move(list)) {}
  Verdict OnConnect(SessionCallbacks& cb) override;

 private:
  std::shared_ptr<const AccessList> list_;
};

}  // namespace mxs::access_cidr
