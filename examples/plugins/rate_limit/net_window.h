/* net_window: counts new connections per client network in fixed windows,
 * for the rate_limit example plugin.
 *
 * One table per plugin config, shared by every session on every worker
 * thread of the process: lock striping (a mutex per shard) keeps threads
 * apart, and each shard is a fixed array allocated up front, so memory is
 * bounded by `max_networks` whatever the traffic. A network's window starts
 * at its first connection and lasts `window_seconds`; when it has run out
 * the slot counts afresh. When every slot a network may use holds a live
 * window, the one whose window started first is evicted (it is the closest
 * to running out, and forgetting it errs towards letting a client in).
 */
#ifndef MXSCREEN_EXAMPLES_NET_WINDOW_H
#define MXSCREEN_EXAMPLES_NET_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A client network: the address with the host bits cleared. */
typedef struct {
  uint8_t family; /* 4 or 6 */
  uint8_t prefix; /* bits kept */
  uint8_t bytes[16];
} nw_network;

typedef struct nw_table nw_table;

/* Builds the network of a textual address ("192.0.2.7", "2001:db8::1", also
 * "::ffff:192.0.2.7", which is the IPv4 client). Returns 0, or -1 when the
 * text is not an address. */
int nw_network_of(const char* address, unsigned v4_prefix, unsigned v6_prefix, nw_network* out);

/* "192.0.2.0/24", "2001:db8::/64". */
void nw_format(const nw_network* net, char* buf, size_t len);

/* A table for at most `max_networks` networks (rounded up to whole shards);
 * NULL when out of memory. */
nw_table* nw_create(size_t max_networks, uint64_t window_seconds);
void nw_destroy(nw_table* t);

/* Counts one new connection from `net` at `now` (seconds, monotonic) and
 * returns the count within the network's current window, this one included.
 * `window_start` (optional) receives when that window began. */
uint64_t nw_count(nw_table* t, const nw_network* net, uint64_t now, uint64_t* window_start);

/* Networks whose window is still running at `now` (for tests and metrics). */
size_t nw_live(nw_table* t, uint64_t now);

/* Slots in the table: the memory bound in networks. */
size_t nw_capacity(const nw_table* t);

#ifdef __cplusplus
}
#endif

#endif
