// dns_resolver: the asynchronous DNS lookups a filter may ask of its worker
// (the DNSBL test), and the parsing of raw DNS answers. This header is the
// interface only and stays light (no Asio, no c-ares): filters include it.
// The implementation (c-ares driven by each worker's event loop, one lookup
// shared by every session in the process that asks the same name, an answer
// cache that honours the DNS TTL) is core/ares_resolver.{h,cc}.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/ip_address.h"

namespace mxs {

// What one A lookup found.
struct DnsAnswer {
  enum class Status : uint8_t {
    kFound,     // one or more A records
    kNotFound,  // NXDOMAIN or no A record (NODATA): not listed
    kTimeout,   // no answer in time
    kError,     // server failure, refused, malformed answer, ...
  };
  Status status = Status::kError;
  // IPv4 addresses of the A records, host byte order, in answer order.
  std::vector<uint32_t> ipv4;
  // kFound: the smallest TTL of the A records. kNotFound: the negative TTL
  // from the SOA in the authority section (RFC 2308), when there is one.
  uint32_t ttl = 0;
  bool ttl_known = false;
  // kError/kTimeout: what went wrong, for a log line.
  std::string error;
};

// Turns what c-ares delivered for one A query (its status code and the raw
// response, which may be null, truncated or hostile) into a DnsAnswer. Never
// reads outside [buf, buf+len). Pure: the fuzz target dns_answer drives it.
DnsAnswer ParseDnsAnswer(int ares_status, const unsigned char* buf, int len);

// An outstanding lookup. Destroying it cancels it: its callback is then never
// called (a session that ends while a list has not answered is safe).
class DnsLookup {
 public:
  virtual ~DnsLookup() = default;
};

using DnsCallback = std::function<void(const DnsAnswer&)>;

// One worker's resolver. Used on that worker's thread only.
class DnsResolver {
 public:
  virtual ~DnsResolver() = default;
  // Looks up the A records of `name` (a fully qualified name; no search
  // domains are applied). `done` runs later on this worker's thread, never
  // inside this call, once: with the answer, or kTimeout after `timeout`.
  virtual std::unique_ptr<DnsLookup> LookupA(const std::string& name,
                                             std::chrono::milliseconds timeout,
                                             DnsCallback done) = 0;
};

// Resolver settings (Bootstrap.dns_resolver).
struct DnsResolverOptions {
  // Empty: the nameservers of /etc/resolv.conf.
  std::vector<Endpoint> nameservers;
  // One try at one nameserver, and how many rounds over the nameservers.
  std::chrono::milliseconds try_timeout{2000};
  int tries = 3;
  // Answers kept in the process-wide cache at most.
  size_t cache_size = 100000;
};

}  // namespace mxs
