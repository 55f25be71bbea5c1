/* json_config: reads a plugin's config, a flat JSON object, for the example
 * plugins (C and C++ alike).
 *
 * The examples take their settings as one JSON object whose values are
 * strings, integers, booleans or arrays of strings, e.g.
 *   {"limit": 20, "window": "60s", "checks": ["bare_ip", "non_fqdn"]}
 * That is all a screening plugin usually needs, and a reader this small can
 * give exact error messages (the key and the byte offset), which end up in
 * `mxscreen validate` output and in a NACK. Nested objects, fractions and
 * exponents are refused with a message saying so. Plain C99, standard
 * library only, so a plugin stays buildable with nothing but a compiler.
 */
#ifndef MXSCREEN_EXAMPLES_JSON_CONFIG_H
#define MXSCREEN_EXAMPLES_JSON_CONFIG_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  JC_STRING,
  JC_INTEGER,
  JC_BOOL,
  JC_STRING_ARRAY,
} jc_type;

typedef struct {
  char* key; /* NUL-terminated, UTF-8 */
  jc_type type;
  char* string;      /* JC_STRING */
  long long integer; /* JC_INTEGER */
  int boolean;       /* JC_BOOL: 0 or 1 */
  char** items;      /* JC_STRING_ARRAY */
  size_t n_items;
} jc_field;

typedef struct {
  jc_field* fields;
  size_t n_fields;
} jc_object;

/* Parses `len` bytes (not NUL-terminated; may hold NULs, which are refused).
 * Empty input or only white space is an empty object. Returns 0 and fills
 * `out`, or -1 and writes a one-line reason into `err` (always terminated)
 * and leaves `out` empty. A key given twice is an error. Strings holding a
 * NUL (\u0000) are refused: every consumer treats them as C strings. */
int jc_parse(const char* text, size_t len, jc_object* out, char* err, size_t err_len);

/* Frees what jc_parse allocated; `obj` becomes empty. */
void jc_free(jc_object* obj);

/* The field named `key`, or NULL. */
const jc_field* jc_find(const jc_object* obj, const char* key);

/* Checks that every key is one of the NULL-terminated `known` names;
 * returns 0, or -1 with "unknown key \"x\" (expected a, b or c)" in err. */
int jc_check_keys(const jc_object* obj, const char* const* known, char* err, size_t err_len);

/* The JSON type name of a field type, for messages ("a string"). */
const char* jc_type_name(jc_type type);

#ifdef __cplusplus
}
#endif

#endif
