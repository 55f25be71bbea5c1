// cidr_table: a Postfix cidr: table for the access list ("network/prefix
// ACTION" per line, first match wins). Parse errors name the source and line.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/ip_address.h"

namespace mxs::access_cidr {

enum class TableAction : uint8_t { kPermit, kReject, kDunno };

class CidrTable {
 public:
  // Parses lines; `source` names the file (or "inline") in errors. Throws
  // std::invalid_argument("SOURCE, line N: reason").
  static CidrTable Parse(const std::vector<std::string>& lines, const std::string& source);
  // Reads and parses a file. Throws std::invalid_argument.
  static CidrTable Load(const std::string& path);
  // The action of the first matching rule, or nullopt.
  std::optional<TableAction> Match(const IpAddress& addr) const;
  size_t size() const { return rules_.size(); }

 private:
  struct Rule {
    Cidr network;
    TableAction action;
  };
  std::vector<Rule> rules_;
};

}  // namespace mxs::access_cidr
