/* mxscreen_plugin.h: the plugin ABI of mxscreen, version 1 (plain C99, also
 * valid C++). This header is the whole contract between the gateway and a
 * screening test built outside it; it is the ABI reference (docs/plugins.md
 * is the tutorial built on it).
 *
 * A plugin is a shared object that exports one symbol, MXS_PLUGIN_ENTRY
 * ("mxscreen_plugin_describe"), returning a static description: its ABI
 * version, name, traits and a table of hooks. The gateway loads the object
 * when a config names it (each config that names a file with new content loads
 * that content anew), calls create_config with the operator's config, then for
 * every screened connection create_session, the hooks, on_session_end and
 * destroy_session.
 *
 * Rules of the boundary
 * - No C++ types, no exceptions, no allocator ownership cross it. A string
 *   handed to the plugin (pointer + length, not NUL-terminated unless said)
 *   is valid only during the call; the plugin copies what it keeps. A string
 *   the plugin hands to the gateway is copied by the gateway before the call
 *   returns.
 * - Hooks run on the session's worker thread and must not block: the gateway
 *   times every hook and logs and counts one that overstays the filter's
 *   hook_budget (a warning, "plugin NAME: hook HOOK took N ms (budget B ms)").
 *   Slow work goes to the plugin's own thread or a timer and finishes through
 *   MXS_PENDING + host->resume.
 * - A plugin reports what it found: pass, fail (with the reply text and a log
 *   line) or no opinion. What a failure means (ignore / enforce / drop) and how
 *   long a pass is remembered come from the filter entry in the config, as for
 *   built-in filters.
 * - A misbehaving plugin (an unknown verdict code, a second verdict for one
 *   hook, a NULL or oversized argument) is logged and treated as no opinion.
 *   A crash inside the plugin is a crash of the gateway: plugins run in-process
 *   with the gateway's privileges; load only code you trust.
 *
 * Versioning
 * - MXS_PLUGIN_ABI_VERSION_MAJOR changes on any incompatible change; the
 *   loader refuses a plugin whose major differs from its own, naming both.
 * - MXS_PLUGIN_ABI_VERSION_MINOR grows on additive changes (new host
 *   functions or fields appended at the end of a struct). The loader refuses
 *   a plugin built against a newer minor than its own. Structs the gateway
 *   hands to the plugin (mxs_host_v1, mxs_command) only grow at the end, so
 *   a plugin built against an older minor keeps working.
 */
#ifndef MXSCREEN_PLUGIN_V1_MXSCREEN_PLUGIN_H_
#define MXSCREEN_PLUGIN_V1_MXSCREEN_PLUGIN_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MXS_PLUGIN_ABI_VERSION_MAJOR 1
#define MXS_PLUGIN_ABI_VERSION_MINOR 0
#define MXS_PLUGIN_ABI_VERSION_STRING "1.0"

/* The one symbol a plugin exports (see mxs_plugin_describe_fn). Its name has
 * no version in it so that the loader can read the version of any plugin and
 * refuse a mismatch with a clear message. */
#define MXS_PLUGIN_ENTRY mxscreen_plugin_describe
#define MXS_PLUGIN_ENTRY_NAME "mxscreen_plugin_describe"

#if defined(__GNUC__) || defined(__clang__)
#define MXS_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define MXS_PLUGIN_EXPORT
#endif

/* What a hook found (its return value, and the verdict given to resume). */
enum {
  MXS_CONTINUE = 0, /* no opinion (yet): the other tests decide */
  MXS_PASS = 1,     /* this test passed (remembered for the entry's ttl when cached) */
  MXS_FAIL = 2,     /* this test failed; reply and log line from host->fail */
  MXS_PENDING = 3   /* the answer comes later through host->resume */
};

/* Plugin traits (mxs_plugin_v1.traits, a bit set). */
enum {
  /* A pass is remembered under the filter entry's name for its ttl, and a
   * client whose every cached test passed is "PASS OLD". Without it the
   * plugin runs on every connection (an access list, a rate limiter). A
   * cached plugin must return MXS_PASS at some point, or no client ever
   * passes it (no "PASS NEW"). */
  MXS_TRAIT_CACHED = 1u << 0,
  /* Needs the after-greeting SMTP engine: on_command and on_line run only
   * with it (a HELO policy). */
  MXS_TRAIT_NEEDS_ENGINE = 1u << 1,
  /* Runs in the greet wait and wants the "220-" teaser sent first. */
  MXS_TRAIT_WANTS_TEASER = 1u << 2
};

/* Address families in mxs_endpoint. */
enum { MXS_AF_INET = 4, MXS_AF_INET6 = 6 };

/* What host->smtp_value reads. */
enum {
  MXS_SMTP_HELO = 1,      /* the last HELO/EHLO argument */
  MXS_SMTP_MAIL_FROM = 2, /* the last MAIL FROM argument (as written, "<a@b>") */
  MXS_SMTP_RCPT_TO = 3    /* the RCPT TO arguments, by index from 0 */
};

/* Log levels of host->log. */
enum {
  MXS_LOG_INFO = 0,
  MXS_LOG_WARNING = 1 /* the line gets Postfix's "warning: " prefix */
};

/* Why a timer callback is called. */
enum {
  MXS_TIMER_FIRED = 0,
  MXS_TIMER_CANCELLED = 1 /* host->cancel_timer, or the session ended */
};

/* An address as text, e.g. {"192.0.2.1", 25, MXS_AF_INET}. */
typedef struct mxs_endpoint {
  char address[64]; /* NUL-terminated, without brackets */
  uint16_t port;
  int family; /* MXS_AF_INET or MXS_AF_INET6 */
} mxs_endpoint;

/* One SMTP command as the engine parsed it (valid during on_command). */
typedef struct mxs_command {
  const char* verb; /* as the client wrote it ("ehlo", "MAIL") */
  size_t verb_len;
  const char* argument; /* the rest of the line ("FROM:<a@b>") */
  size_t argument_len;
  const char* line; /* the whole line without its ending */
  size_t line_len;
  int more_input_queued; /* the client sent more before our reply (pipelining) */
} mxs_command;

struct mxs_host_v1;

/* The gateway's handle of one session. Only `host` is public; the rest is the
 * gateway's. Valid from create_session until destroy_session returns. */
typedef struct mxs_session {
  const struct mxs_host_v1* host;
} mxs_session;

/* A timer callback: `state` is the session's plugin state, `arg` what was
 * given to arm_timer, `why` MXS_TIMER_FIRED or MXS_TIMER_CANCELLED. Every
 * armed timer gets exactly one call, so `arg` can be freed there. */
typedef void (*mxs_timer_fn)(void* state, mxs_session* session, void* arg, int why);

/* The gateway's functions, reached through session->host. Unless said
 * otherwise they may be called only on the session's worker thread (from a
 * hook or a timer callback). Lengths above 64 KiB are refused. */
typedef struct mxs_host_v1 {
  /* sizeof(mxs_host_v1) as the gateway was built: check it before using a
   * function added in a later minor version. */
  uint32_t struct_size;
  uint32_t abi_minor; /* the gateway's MXS_PLUGIN_ABI_VERSION_MINOR */

  /* Logs one line under the listener's program name (postfix/postscreen),
   * with control bytes escaped. Safe from any thread until destroy_session. */
  void (*log)(mxs_session* s, int level, const char* line, size_t len);

  /* The client (after any PROXY header) and the address it connected to.
   * Return 1, or 0 on a bad argument. */
  int (*client)(mxs_session* s, mxs_endpoint* out);
  int (*server)(mxs_session* s, mxs_endpoint* out);

  /* "[addr]:port" as every log line writes the client, and the filter
   * entry's name (from the config): pointer valid during the current call. */
  void (*client_tag)(mxs_session* s, const char** data, size_t* len);
  void (*filter_name)(mxs_session* s, const char** data, size_t* len);

  /* What the client sent so far in the SMTP engine (MXS_SMTP_*; `index`
   * counts RCPT TO from 0, 0 for the others). Returns 1 and sets data/len
   * (valid during the current call), or 0 when not seen. */
  int (*smtp_value)(mxs_session* s, int what, uint32_t index, const char** data, size_t* len);

  /* Says what the current hook's MXS_FAIL means: `reply` is the text
   * without the code ("5.7.1 HELO must be a domain name"; the gateway puts
   * "550 " or "521 " before it under the entry's action), `log_line` (may be
   * empty) is logged when the failure is recorded. Call it at most once per
   * hook, then return MXS_FAIL. A hook returning MXS_FAIL without it fails
   * with "5.7.1 Service unavailable" and no log line. The reply must be
   * printable ASCII without CR/LF, at most 500 bytes. Returns 1, or 0 when
   * refused (logged). */
  int (*fail)(mxs_session* s, const char* reply, size_t reply_len, const char* log_line,
              size_t log_len);

  /* Finishes the hook that returned MXS_PENDING with `verdict` (MXS_PASS,
   * MXS_FAIL with reply/log_line as in fail, or MXS_CONTINUE). Never from
   * inside that hook (the gateway defers it if you do). Safe from any thread
   * until destroy_session returns; after the session ended, or a second
   * time for one pending hook, it is ignored. Returns 1 when accepted. */
  int (*resume)(mxs_session* s, int verdict, const char* reply, size_t reply_len,
                const char* log_line, size_t log_len);

  /* A one-shot timer on the session's worker thread, after delay_ms. Returns
   * its id (never 0), or 0 on a bad argument. Timers still armed when the
   * session ends are cancelled (their callback gets MXS_TIMER_CANCELLED)
   * before on_session_end. */
  uint64_t (*arm_timer)(mxs_session* s, uint32_t delay_ms, mxs_timer_fn fn, void* arg);
  /* Cancels a timer that has not fired: its callback runs now with
   * MXS_TIMER_CANCELLED. Returns 1, or 0 when there is no such timer. */
  int (*cancel_timer)(mxs_session* s, uint64_t id);
} mxs_host_v1;

/* What the plugin is: returned by MXS_PLUGIN_ENTRY, static for the life of
 * the loaded object. Unused hooks may be NULL (no opinion). */
typedef struct mxs_plugin_v1 {
  /* MXS_PLUGIN_ABI_VERSION_MAJOR / _MINOR as the plugin was built. These two
   * fields stay first in every ABI version. */
  uint32_t abi_major;
  uint32_t abi_minor;
  /* The plugin's name and build (e.g. "helo_policy", "1.2.0+git.abc123"),
   * NUL-terminated, for logs and the mxs_plugin_info metric. */
  const char* name;
  const char* version;
  uint32_t traits; /* MXS_TRAIT_* */

  /* The operator's config for this filter entry: JSON text (an object; "{}"
   * when the entry has none). Returns the plugin's config object, or NULL
   * with a message in `error` (NUL-terminated, at most error_cap bytes with
   * the NUL): the config is refused with that message. A config object is
   * shared by every session of the config, on several worker threads at
   * once: treat it as read-only or lock what changes. */
  void* (*create_config)(const char* json, size_t json_len, char* error, size_t error_cap);
  /* When no config and no session uses it any more (any thread). */
  void (*destroy_config)(void* config);

  /* Per-session state (may return NULL when the plugin keeps none; the hooks
   * then get NULL). `session` stays valid until destroy_session returns. */
  void* (*create_session)(void* config, mxs_session* session);
  void (*destroy_session)(void* state, mxs_session* session);

  /* The hooks; each returns MXS_CONTINUE, MXS_PASS, MXS_FAIL or MXS_PENDING. */
  /* The client address is final (after any PROXY header); every plugin.
   * The first hook of a session: create_session runs just before it. */
  int (*on_connect)(void* state, mxs_session* session);
  /* The tests before the greeting start (the teaser, if any, is sent). Only
   * for a plugin with MXS_TRAIT_CACHED and without MXS_TRAIT_NEEDS_ENGINE
   * (an early test, as pregreet and dnsbl), and only when it is not already
   * passed (cached). Returning MXS_PENDING holds the greet wait until resume
   * or the wait's end; a resume that decides the last early test ends the
   * wait at once. */
  int (*on_before_greeting)(void* state, mxs_session* session);
  /* The greet wait ended (the client stayed silent, or talked early); for
   * an early test still undecided (a pending verdict that did not come in
   * time is dropped: resume is then ignored). */
  int (*on_greet_wait_end)(void* state, mxs_session* session);
  /* One SMTP command in the engine (MXS_TRAIT_NEEDS_ENGINE). */
  int (*on_command)(void* state, mxs_session* session, const mxs_command* command);
  /* One raw line in the engine with its ending ("\r\n", "\n", or empty at
   * the end of the input) (MXS_TRAIT_NEEDS_ENGINE). */
  int (*on_line)(void* state, mxs_session* session, const char* line, size_t line_len,
                 const char* ending, size_t ending_len);
  /* The session ends (handed off, rejected or hung up). Its timers are
   * cancelled already; a pending resume is no longer wanted. */
  void (*on_session_end)(void* state, mxs_session* session);
} mxs_plugin_v1;

/* The type of MXS_PLUGIN_ENTRY. `host` is the gateway's function table (the
 * same one every session's `host` points to), valid while the object is
 * loaded. Returns the plugin's description (never NULL for a usable plugin). */
typedef const mxs_plugin_v1* (*mxs_plugin_describe_fn)(const mxs_host_v1* host);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MXSCREEN_PLUGIN_V1_MXSCREEN_PLUGIN_H_ */
