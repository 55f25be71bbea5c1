// dns_answer: ParseDnsAnswer (core/dns_resolver.h): raw DNS responses as
// c-ares hands them to a query callback, turned into what a DNSBL needs (the A
// addresses and the TTL to cache them with). Kept apart from the resolver so
// that the fuzz target dns_answer links only this and c-ares. Responses come
// from the network: every length is checked before it is read.
#include <ares.h>
#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "core/dns_resolver.h"

namespace mxs {
namespace {

constexpr int kHeaderSize = 12;
constexpr int kTypeSoa = 6;
// More records than a DNSBL answer ever carries; a response claiming more is
// not walked further (bounds the work a hostile response can cause).
constexpr int kMaxRecords = 64;

uint16_t Get16(const unsigned char* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t Get32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}

// RFC 2181 8: a TTL with the top bit set is treated as zero.
uint32_t SaneTtl(uint32_t ttl) { return ttl & 0x80000000u ? 0 : ttl; }

// Skips one (possibly compressed) name at *pos; false when it runs out of
// the buffer or is malformed.
bool SkipName(const unsigned char* buf, int len, int* pos) {
  if (*pos >= len) return false;
  char* name = nullptr;
  long used = 0;
  if (ares_expand_name(buf + *pos, buf, len, &name, &used) != ARES_SUCCESS) return false;
  ares_free_string(name);
  if (used <= 0 || used > len - *pos) return false;
  *pos += static_cast<int>(used);
  return true;
}

// The negative-caching TTL of an NXDOMAIN/NODATA response: min(SOA TTL, SOA
// minimum) of the first SOA in the authority section (RFC 2308 5).
void NegativeTtl(const unsigned char* buf, int len, DnsAnswer* a) {
  if (!buf || len < kHeaderSize) return;
  int qd = Get16(buf + 4), an = Get16(buf + 6), ns = Get16(buf + 8);
  if (qd > kMaxRecords || an > kMaxRecords || ns > kMaxRecords) return;
  int pos = kHeaderSize;
  for (int i = 0; i < qd; ++i) {
    if (!SkipName(buf, len, &pos) || len - pos < 4) return;
    pos += 4;  // type, class
  }
  for (int i = 0; i < an + ns; ++i) {
    if (!SkipName(buf, len, &pos) || len - pos < 10) return;
    int type = Get16(buf + pos);
    uint32_t ttl = SaneTtl(Get32(buf + pos + 4));
    int rdlen = Get16(buf + pos + 8);
    pos += 10;
    if (rdlen > len - pos) return;
    if (i >= an && type == kTypeSoa) {
      int rd = pos;
      int rd_end = pos + rdlen;
      // MNAME and RNAME, then five 32-bit values; MINIMUM is the last.
      if (!SkipName(buf, rd_end, &rd) || !SkipName(buf, rd_end, &rd) || rd_end - rd < 20) return;
      a->ttl = std::min(ttl, SaneTtl(Get32(buf + rd + 16)));
      a->ttl_known = true;
      return;
    }
    pos += rdlen;
  }
}

}  // namespace

DnsAnswer ParseDnsAnswer(int ares_status, const unsigned char* buf, int len) {
  DnsAnswer a;
  if (len < 0) len = 0;
  switch (ares_status) {
    case ARES_SUCCESS:
      break;
    case ARES_ENOTFOUND:
    case ARES_ENODATA:
      a.status = DnsAnswer::Status::kNotFound;
      NegativeTtl(buf, len, &a);
      return a;
    case ARES_ETIMEOUT:
      a.status = DnsAnswer::Status::kTimeout;
      a.error = "timed out";
      return a;
    default:
      a.status = DnsAnswer::Status::kError;
      a.error = ares_strerror(ares_status);
      return a;
  }
  if (!buf || len == 0) {
    a.error = "empty response";
    return a;
  }
  ares_addrttl records[kMaxRecords];
  int n = kMaxRecords;
  int rc = ares_parse_a_reply(buf, len, nullptr, records, &n);
  if (rc == ARES_ENODATA || (rc == ARES_SUCCESS && n <= 0)) {
    a.status = DnsAnswer::Status::kNotFound;
    NegativeTtl(buf, len, &a);
    return a;
  }
  if (rc != ARES_SUCCESS) {
    a.error = std::string("malformed response: ") + ares_strerror(rc);
    return a;
  }
  a.status = DnsAnswer::Status::kFound;
  for (int i = 0; i < n && i < kMaxRecords; ++i) {
    a.ipv4.push_back(ntohl(records[i].ipaddr.s_addr));
    uint32_t ttl = records[i].ttl < 0 ? 0 : static_cast<uint32_t>(records[i].ttl);
    a.ttl = a.ttl_known ? std::min(a.ttl, ttl) : ttl;
    a.ttl_known = true;
  }
  return a;
}

}  // namespace mxs
