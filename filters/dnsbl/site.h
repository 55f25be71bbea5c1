// dnsbl site: one entry of postscreen_dnsbl_sites, "domain[=filter][*weight]",
// its parser (config errors name the entry) and its answer filter, plus the
// query name of a client (reversed octets, or reversed nibbles for IPv6).
// Pure functions: the unit tests and the fuzz target dnsbl_site drive them.
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/ip_address.h"

namespace mxs::dnsbl {

struct Site {
  std::string text;    // as written, for messages
  std::string domain;  // lower case, no trailing dot
  bool has_filter = false;
  // With a filter: the allowed values of each octet of an answer address.
  std::array<std::bitset<256>, 4> octets;
  int weight = 1;

  // True when answer `addr` (host order) lists the client for this entry:
  // it matches the filter, or, with no filter, it is not an error code.
  bool Matches(uint32_t addr) const;
  // True when a filter is given and `addr` matches it.
  bool FilterMatches(uint32_t addr) const;
};

// Parses one entry. Throws std::invalid_argument with a message naming the
// entry and what is wrong with it.
Site ParseSite(std::string_view text);

// Spamhaus-style error codes (127.255.255.0/24: query refused, rate limited,
// bad query): answers that are not listings.
bool IsErrorCode(uint32_t addr);

// The name to look up for `client` below a list domain, without the domain:
// "2.0.0.127" for 127.0.0.2, 32 reversed nibbles for an IPv6 address.
std::string ReverseName(const IpAddress& client);

// "127.0.0.2" for a host-order IPv4 address.
std::string FormatIpv4(uint32_t addr);

}  // namespace mxs::dnsbl
