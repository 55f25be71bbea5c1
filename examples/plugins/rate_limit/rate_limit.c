/* rate_limit: an example mxscreen plugin in plain C, against the C ABI
 * (mxscreen_plugin.h) only.
 *
 * Fails a client whose network (/24 for IPv4, /64 for IPv6 by default) has
 * opened more than `limit` new connections within `window`. Judged on every
 * connection in the connect hook (not cached: a pass says nothing about the
 * next connection). The counters live in the config object, so they are
 * shared by every session on every worker thread of the process, bounded by
 * `max_networks` (see net_window.h). A new config (a reload or a push that
 * changes this entry) starts with empty counters.
 *
 * Config (JSON, every key optional):
 *   {"limit": 20, "window": "60s", "ipv4_prefix": 24, "ipv6_prefix": 64,
 *    "max_networks": 100000, "reply": "5.7.1 Too many connections ..."}
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/json_config.h"
#include "mxscreen/plugin/v1/mxscreen_plugin.h"
#include "net_window.h"

/* 5.x.x because the gateway sends a failure as 521 (drop) or 550 (enforce)
 * and the enhanced code's class must match (RFC 3463). Under drop the 521
 * comes instead of the greeting, and a Postfix sender skips a server that
 * greets with 5xx (smtp_skip_5xx_greeting) instead of bouncing the mail. */
#define RL_DEFAULT_REPLY "4.7.1 Too many connections from your network, try again later"

typedef struct {
  uint64_t limit;
  uint64_t window;
  unsigned v4_prefix;
  unsigned v6_prefix;
  char reply[512];
  nw_table* table;
} rl_config;

/* Seconds on a clock that never goes back (NTP steps do not open windows). */
static uint64_t now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec;
}

/* Reads a duration: whole seconds, or a Postfix time value ("90s", "5m",
 * "1h", "1d", "1w"), as mxscreen's own config does. */
static int parse_duration(const jc_field* f, uint64_t* out, char* error, size_t cap) {
  if (f->type == JC_INTEGER) {
    if (f->integer < 1 || f->integer > 86400) goto bad;
    *out = (uint64_t)f->integer;
    return 0;
  }
  if (f->type == JC_STRING) {
    char* end = NULL;
    const char* s = f->string;
    if (*s < '0' || *s > '9') goto bad;
    unsigned long long v = strtoull(s, &end, 10);
    uint64_t unit = 1;
    if (*end != '\0') {
      if (end[1] != '\0') goto bad;
      switch (*end) {
        case 's':
          unit = 1;
          break;
        case 'm':
          unit = 60;
          break;
        case 'h':
          unit = 3600;
          break;
        case 'd':
          unit = 86400;
          break;
        case 'w':
          unit = 604800;
          break;
        default:
          goto bad;
      }
    }
    if (v < 1 || v > 86400 || v * unit > 86400) goto bad;
    *out = (uint64_t)v * unit;
    return 0;
  }
bad:
  snprintf(error, cap, "\"%s\": expected a duration from 1s to 1d, e.g. \"60s\", \"5m\" or 60",
           f->key);
  return -1;
}

/* An integer key within [min, max]; the default when absent. */
static int int_key(const jc_object* obj, const char* key, long long min, long long max,
                   long long def, long long* out, char* error, size_t cap) {
  const jc_field* f = jc_find(obj, key);
  *out = def;
  if (!f) return 0;
  if (f->type != JC_INTEGER || f->integer < min || f->integer > max) {
    snprintf(error, cap, "\"%s\": expected a whole number from %lld to %lld", key, min, max);
    return -1;
  }
  *out = f->integer;
  return 0;
}

/* The reply goes into an SMTP reply line: printable ASCII, no CR/LF. */
static int check_reply(const char* text, char* error, size_t cap) {
  size_t n = strlen(text);
  if (n == 0 || n > 500) {
    snprintf(error, cap, "\"reply\": expected 1 to 500 characters");
    return -1;
  }
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = (unsigned char)text[i];
    if (c < 0x20 || c > 0x7e) {
      snprintf(error, cap, "\"reply\": only printable ASCII (byte %zu is not)", i);
      return -1;
    }
  }
  return 0;
}

static void* rl_create_config(const char* json, size_t len, char* error, size_t cap) {
  static const char* const kKeys[] = {"limit",        "window", "ipv4_prefix", "ipv6_prefix",
                                      "max_networks", "reply",  NULL};
  jc_object obj;
  long long limit, v4, v6, max_networks;
  if (jc_parse(json, len, &obj, error, cap) != 0) return NULL;
  rl_config* c = (rl_config*)calloc(1, sizeof *c);
  if (!c) {
    snprintf(error, cap, "out of memory");
    goto fail;
  }
  if (jc_check_keys(&obj, kKeys, error, cap) != 0) goto fail;
  if (int_key(&obj, "limit", 1, 1000000, 20, &limit, error, cap) != 0) goto fail;
  if (int_key(&obj, "ipv4_prefix", 8, 32, 24, &v4, error, cap) != 0) goto fail;
  if (int_key(&obj, "ipv6_prefix", 16, 128, 64, &v6, error, cap) != 0) goto fail;
  if (int_key(&obj, "max_networks", 16, 10000000, 100000, &max_networks, error, cap) != 0) {
    goto fail;
  }
  c->limit = (uint64_t)limit;
  c->v4_prefix = (unsigned)v4;
  c->v6_prefix = (unsigned)v6;
  c->window = 60;
  const jc_field* window = jc_find(&obj, "window");
  if (window && parse_duration(window, &c->window, error, cap) != 0) goto fail;
  const jc_field* reply = jc_find(&obj, "reply");
  if (reply && reply->type != JC_STRING) {
    snprintf(error, cap, "\"reply\": expected a string");
    goto fail;
  }
  snprintf(c->reply, sizeof c->reply, "%s", reply ? reply->string : RL_DEFAULT_REPLY);
  if (check_reply(c->reply, error, cap) != 0) goto fail;
  c->table = nw_create((size_t)max_networks, c->window);
  if (!c->table) {
    snprintf(error, cap, "out of memory for %lld networks", max_networks);
    goto fail;
  }
  jc_free(&obj);
  return c;
fail:
  jc_free(&obj);
  free(c);
  return NULL;
}

static void rl_destroy_config(void* config) {
  rl_config* c = (rl_config*)config;
  if (!c) return;
  nw_destroy(c->table);
  free(c);
}

/* No per-session state: the session's "state" is the shared config. */
static void* rl_create_session(void* config, mxs_session* session) {
  (void)session;
  return config;
}

static void rl_destroy_session(void* state, mxs_session* session) {
  (void)state;
  (void)session;
}

static int rl_on_connect(void* state, mxs_session* s) {
  const rl_config* c = (const rl_config*)state;
  mxs_endpoint client;
  nw_network net;
  if (!c || s->host->client(s, &client) != 1) return MXS_CONTINUE;
  if (nw_network_of(client.address, c->v4_prefix, c->v6_prefix, &net) != 0) return MXS_CONTINUE;
  uint64_t count = nw_count(c->table, &net, now_seconds(), NULL);
  if (count <= c->limit) return MXS_PASS;

  /* RATE LIMIT from [192.0.2.7]:4000: 21 connections from 192.0.2.0/24 within 60s (limit 20) */
  const char* tag = "";
  size_t tag_len = 0;
  char network[64];
  char line[256];
  s->host->client_tag(s, &tag, &tag_len);
  nw_format(&net, network, sizeof network);
  int n = snprintf(line, sizeof line,
                   "RATE LIMIT from %.*s: %llu connections from %s within %llus (limit %llu)",
                   (int)tag_len, tag, (unsigned long long)count, network,
                   (unsigned long long)c->window, (unsigned long long)c->limit);
  if (n < 0) n = 0;
  if ((size_t)n >= sizeof line) n = (int)sizeof line - 1;
  s->host->fail(s, c->reply, strlen(c->reply), line, (size_t)n);
  return MXS_FAIL;
}

/* Hooks left out are NULL: no opinion. */
static const mxs_plugin_v1 kPlugin = {
    .abi_major = MXS_PLUGIN_ABI_VERSION_MAJOR,
    .abi_minor = MXS_PLUGIN_ABI_VERSION_MINOR,
    .name = "rate_limit",
    .version = "1.0.0",
    .traits = 0, /* not cached: judged on every connection */
    .create_config = rl_create_config,
    .destroy_config = rl_destroy_config,
    .create_session = rl_create_session,
    .destroy_session = rl_destroy_session,
    .on_connect = rl_on_connect,
};

MXS_PLUGIN_EXPORT const mxs_plugin_v1* MXS_PLUGIN_ENTRY(const mxs_host_v1* host) {
  (void)host;
  return &kPlugin;
}
