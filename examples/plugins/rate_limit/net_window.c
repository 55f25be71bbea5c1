/* net_window: the per-network connection counter of the rate_limit example
 * (see net_window.h for the rules).
 *
 * Layout: NW_SHARDS shards, each a mutex and a fixed array of slots. A network
 * hashes to a shard and to a start slot; it may live in any of the
 * NW_PROBE slots from there on (wrapping). Slots are never emptied, only
 * reused, so a lookup scans all NW_PROBE slots (or stops at a slot never
 * used) and needs no tombstones. The whole table is allocated at create
 * time: no allocation happens while counting. */
#define _POSIX_C_SOURCE 200809L
#include "net_window.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NW_SHARDS 16
#define NW_PROBE 16

typedef struct {
  nw_network net;
  uint8_t used;
  uint64_t window_start;
  uint64_t count;
} nw_slot;

typedef struct {
  pthread_mutex_t lock;
  nw_slot* slots;
  size_t n_slots;
} nw_shard;

struct nw_table {
  uint64_t window;
  nw_shard shards[NW_SHARDS];
};

/* Keeps the first `prefix` bits of `bytes` (n bytes long). */
static void mask_bits(uint8_t* bytes, size_t n, unsigned prefix) {
  for (size_t i = 0; i < n; ++i) {
    unsigned bit = (unsigned)i * 8;
    if (prefix >= bit + 8) continue;
    bytes[i] = prefix <= bit ? 0 : (uint8_t)(bytes[i] & (0xFF << (8 - (prefix - bit))));
  }
}

int nw_network_of(const char* address, unsigned v4_prefix, unsigned v6_prefix, nw_network* out) {
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  struct in_addr a4;
  struct in6_addr a6;
  memset(out, 0, sizeof *out);
  if (v4_prefix > 32 || v6_prefix > 128) return -1;
  if (inet_pton(AF_INET, address, &a4) == 1) {
    out->family = 4;
    memcpy(out->bytes, &a4, 4);
  } else if (inet_pton(AF_INET6, address, &a6) == 1) {
    if (memcmp(a6.s6_addr, kMapped, 12) == 0) {
      out->family = 4;
      memcpy(out->bytes, a6.s6_addr + 12, 4);
    } else {
      out->family = 6;
      memcpy(out->bytes, a6.s6_addr, 16);
    }
  } else {
    return -1;
  }
  out->prefix = (uint8_t)(out->family == 4 ? v4_prefix : v6_prefix);
  mask_bits(out->bytes, out->family == 4 ? 4 : 16, out->prefix);
  return 0;
}

void nw_format(const nw_network* net, char* buf, size_t len) {
  char text[INET6_ADDRSTRLEN];
  if (net->family == 4) {
    inet_ntop(AF_INET, net->bytes, text, sizeof text);
  } else {
    inet_ntop(AF_INET6, net->bytes, text, sizeof text);
  }
  snprintf(buf, len, "%s/%u", text, (unsigned)net->prefix);
}

/* FNV-1a over the family, prefix and address bytes. */
static uint64_t hash_network(const nw_network* net) {
  uint64_t h = 1469598103934665603ULL;
  const uint8_t* p = (const uint8_t*)net;
  for (size_t i = 0; i < sizeof *net; ++i) {
    h ^= p[i];
    h *= 1099511628211ULL;
  }
  return h;
}

static int same_network(const nw_network* a, const nw_network* b) {
  return a->family == b->family && a->prefix == b->prefix &&
         memcmp(a->bytes, b->bytes, sizeof a->bytes) == 0;
}

nw_table* nw_create(size_t max_networks, uint64_t window_seconds) {
  nw_table* t = (nw_table*)calloc(1, sizeof *t);
  if (!t) return NULL;
  t->window = window_seconds;
  size_t per_shard = (max_networks + NW_SHARDS - 1) / NW_SHARDS;
  if (per_shard < NW_PROBE) per_shard = NW_PROBE;
  for (int i = 0; i < NW_SHARDS; ++i) {
    nw_shard* s = &t->shards[i];
    s->slots = (nw_slot*)calloc(per_shard, sizeof(nw_slot));
    s->n_slots = per_shard;
    if (!s->slots || pthread_mutex_init(&s->lock, NULL) != 0) {
      free(s->slots);
      s->slots = NULL;
      for (int j = 0; j < i; ++j) {
        pthread_mutex_destroy(&t->shards[j].lock);
        free(t->shards[j].slots);
      }
      free(t);
      return NULL;
    }
  }
  return t;
}

void nw_destroy(nw_table* t) {
  if (!t) return;
  for (int i = 0; i < NW_SHARDS; ++i) {
    pthread_mutex_destroy(&t->shards[i].lock);
    free(t->shards[i].slots);
  }
  free(t);
}

static int expired(const nw_table* t, const nw_slot* slot, uint64_t now) {
  return now >= slot->window_start + t->window;
}

uint64_t nw_count(nw_table* t, const nw_network* net, uint64_t now, uint64_t* window_start) {
  uint64_t h = hash_network(net);
  nw_shard* s = &t->shards[h % NW_SHARDS];
  size_t start = (size_t)((h / NW_SHARDS) % s->n_slots);
  pthread_mutex_lock(&s->lock);
  nw_slot* found = NULL;
  nw_slot* free_slot = NULL; /* never used, or its window ran out */
  nw_slot* oldest = NULL;    /* the eviction victim when all are live */
  for (size_t i = 0; i < NW_PROBE; ++i) {
    nw_slot* slot = &s->slots[(start + i) % s->n_slots];
    if (!slot->used) {
      if (!free_slot) free_slot = slot;
      break; /* nothing was ever stored past a slot never used */
    }
    if (same_network(&slot->net, net)) {
      found = slot;
      break;
    }
    if (!free_slot && expired(t, slot, now)) free_slot = slot;
    if (!oldest || slot->window_start < oldest->window_start) oldest = slot;
  }
  if (found && expired(t, found, now)) {
    found->window_start = now;
    found->count = 0;
  }
  if (!found) {
    found = free_slot ? free_slot : oldest;
    found->net = *net;
    found->used = 1;
    found->window_start = now;
    found->count = 0;
  }
  uint64_t count = ++found->count;
  if (window_start) *window_start = found->window_start;
  pthread_mutex_unlock(&s->lock);
  return count;
}

size_t nw_live(nw_table* t, uint64_t now) {
  size_t live = 0;
  for (int i = 0; i < NW_SHARDS; ++i) {
    nw_shard* s = &t->shards[i];
    pthread_mutex_lock(&s->lock);
    for (size_t j = 0; j < s->n_slots; ++j) {
      if (s->slots[j].used && !expired(t, &s->slots[j], now)) ++live;
    }
    pthread_mutex_unlock(&s->lock);
  }
  return live;
}

size_t nw_capacity(const nw_table* t) {
  size_t n = 0;
  for (int i = 0; i < NW_SHARDS; ++i) n += t->shards[i].n_slots;
  return n;
}
