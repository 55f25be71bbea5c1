// ares_resolver: the DnsResolver of every worker (core/dns_resolver.h). Each
// worker has its own c-ares channel, driven by its own event loop through
// c-ares' socket-state callback (an Asio wait per socket) and a timer for
// ares_timeout(): no thread per query, nothing blocks. What the workers share
// is a DnsLookupTable: a name being looked up anywhere in the process is not
// sent again (later askers, on any worker, join the lookup in flight), and
// answers are kept until their DNS TTL runs out.
#pragma once

#include <cstdint>
#include <memory>

#include "core/dns_resolver.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace mxs {

// Process-wide: in-flight lookups and cached answers. Thread-safe.
class DnsLookupTable;

std::shared_ptr<DnsLookupTable> MakeDnsLookupTable(const DnsResolverOptions& options);

// Counters, for tests and stats.
struct DnsLookupStats {
  uint64_t queries_sent = 0;  // lookups that went to a nameserver
  uint64_t joined = 0;        // lookups that joined one already in flight
  uint64_t cache_hits = 0;    // lookups answered from the cache
};
DnsLookupStats GetDnsLookupStats(const DnsLookupTable& table);

// A worker's resolver on `io`. Must be destroyed before `io`, on io's thread
// or after io stopped running.
std::unique_ptr<DnsResolver> MakeAresResolver(boost::asio::io_context& io,
                                              std::shared_ptr<DnsLookupTable> table);

}  // namespace mxs
