/* c_plugin: a plugin in plain C99 against mxscreen_plugin.h: fails a client
 * whose HELO contains no dot, and passes on every other HELO. Per-session
 * state counts the commands it saw. */
#include <stdlib.h>
#include <string.h>

#include "mxscreen/plugin/v1/mxscreen_plugin.h"

typedef struct state {
  int commands;
} state;

static void* create_config(const char* json, size_t len, char* error, size_t cap) {
  static int config;
  if (len >= 2 && memcmp(json, "{}", 2) != 0 && strstr(json, "\"strict\"") == NULL) {
    strncpy(error, "only {\"strict\": true} is known", cap - 1);
    error[cap - 1] = '\0';
    return NULL;
  }
  return &config;
}

static void* create_session(void* config, mxs_session* s) {
  (void)config;
  (void)s;
  return calloc(1, sizeof(state));
}

static void destroy_session(void* st, mxs_session* s) {
  (void)s;
  free(st);
}

static int on_command(void* st, mxs_session* s, const mxs_command* c) {
  const char* helo;
  size_t len;
  ((state*)st)->commands++;
  if (s->host->smtp_value(s, MXS_SMTP_HELO, 0, &helo, &len) != 1) return MXS_CONTINUE;
  if (memchr(helo, '.', len) == NULL) {
    static const char reply[] = "5.7.1 HELO needs a dot";
    static const char line[] = "c_plugin: HELO without a dot";
    s->host->fail(s, reply, sizeof reply - 1, line, sizeof line - 1);
    return MXS_FAIL;
  }
  (void)c;
  return MXS_PASS;
}

static const mxs_plugin_v1 kDescription = {MXS_PLUGIN_ABI_VERSION_MAJOR,
                                           MXS_PLUGIN_ABI_VERSION_MINOR,
                                           "c_plugin",
                                           "1",
                                           MXS_TRAIT_CACHED | MXS_TRAIT_NEEDS_ENGINE,
                                           create_config,
                                           NULL,
                                           create_session,
                                           destroy_session,
                                           NULL,
                                           NULL,
                                           NULL,
                                           on_command,
                                           NULL,
                                           NULL};

MXS_PLUGIN_EXPORT const mxs_plugin_v1* MXS_PLUGIN_ENTRY(const mxs_host_v1* host) {
  (void)host;
  return &kDescription;
}
