/* json_config: a recursive-descent reader for one flat JSON object (see
 * json_config.h). Every allocation is tracked in the jc_object under
 * construction, so an error anywhere frees everything in one place. The
 * input is bounded by its length, never by a NUL. */
#include "json_config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char* p;
  size_t len;
  size_t pos;
  char* err;
  size_t err_len;
} reader;

/* Writes the reason, with the byte offset it was found at. */
static int fail(reader* r, const char* fmt, ...) {
  char msg[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (r->err_len > 0) snprintf(r->err, r->err_len, "config JSON, byte %zu: %s", r->pos, msg);
  return -1;
}

static void skip_space(reader* r) {
  while (r->pos < r->len) {
    char c = r->p[r->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
    r->pos++;
  }
}

static int at_end(const reader* r) { return r->pos >= r->len; }

static int peek(const reader* r) { return at_end(r) ? -1 : (unsigned char)r->p[r->pos]; }

/* A growable byte buffer for one string value. */
typedef struct {
  char* data;
  size_t size;
  size_t cap;
} buffer;

static int buf_put(buffer* b, char c) {
  if (b->size + 1 >= b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 32;
    char* d = (char*)realloc(b->data, cap);
    if (!d) return -1;
    b->data = d;
    b->cap = cap;
  }
  b->data[b->size++] = c;
  b->data[b->size] = '\0';
  return 0;
}

static int buf_put_utf8(buffer* b, unsigned long cp) {
  int rc = 0;
  if (cp < 0x80) {
    rc |= buf_put(b, (char)cp);
  } else if (cp < 0x800) {
    rc |= buf_put(b, (char)(0xC0 | (cp >> 6)));
    rc |= buf_put(b, (char)(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    rc |= buf_put(b, (char)(0xE0 | (cp >> 12)));
    rc |= buf_put(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
    rc |= buf_put(b, (char)(0x80 | (cp & 0x3F)));
  } else {
    rc |= buf_put(b, (char)(0xF0 | (cp >> 18)));
    rc |= buf_put(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
    rc |= buf_put(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
    rc |= buf_put(b, (char)(0x80 | (cp & 0x3F)));
  }
  return rc;
}

static int read_hex4(reader* r, unsigned long* out) {
  unsigned long v = 0;
  if (r->len - r->pos < 4) return fail(r, "\\u needs four hex digits");
  for (int i = 0; i < 4; ++i) {
    char c = r->p[r->pos++];
    v <<= 4;
    if (c >= '0' && c <= '9') {
      v |= (unsigned long)(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      v |= (unsigned long)(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      v |= (unsigned long)(c - 'A' + 10);
    } else {
      r->pos--;
      return fail(r, "\\u needs four hex digits");
    }
  }
  *out = v;
  return 0;
}

/* Reads a string starting at its opening quote into a new NUL-terminated
 * allocation. */
static int read_string(reader* r, char** out) {
  buffer b = {NULL, 0, 0};
  if (peek(r) != '"') return fail(r, "expected a string");
  r->pos++;
  if (buf_put(&b, '\0') != 0) goto oom;
  b.size = 0;
  for (;;) {
    if (at_end(r)) {
      free(b.data);
      return fail(r, "unterminated string");
    }
    unsigned char c = (unsigned char)r->p[r->pos];
    if (c == '"') {
      r->pos++;
      break;
    }
    if (c < 0x20) {
      free(b.data);
      return fail(r, "control character in a string (write it as an escape)");
    }
    if (c != '\\') {
      r->pos++;
      if (buf_put(&b, (char)c) != 0) goto oom;
      continue;
    }
    r->pos++;
    if (at_end(r)) {
      free(b.data);
      return fail(r, "unterminated string");
    }
    char e = r->p[r->pos++];
    char plain = 0;
    switch (e) {
      case '"':
        plain = '"';
        break;
      case '\\':
        plain = '\\';
        break;
      case '/':
        plain = '/';
        break;
      case 'b':
        plain = '\b';
        break;
      case 'f':
        plain = '\f';
        break;
      case 'n':
        plain = '\n';
        break;
      case 'r':
        plain = '\r';
        break;
      case 't':
        plain = '\t';
        break;
      case 'u': {
        unsigned long cp;
        if (read_hex4(r, &cp) != 0) {
          free(b.data);
          return -1;
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          unsigned long lo;
          if (r->len - r->pos < 2 || r->p[r->pos] != '\\' || r->p[r->pos + 1] != 'u') {
            free(b.data);
            return fail(r, "a high surrogate must be followed by a low one");
          }
          r->pos += 2;
          if (read_hex4(r, &lo) != 0) {
            free(b.data);
            return -1;
          }
          if (lo < 0xDC00 || lo > 0xDFFF) {
            free(b.data);
            return fail(r, "a high surrogate must be followed by a low one");
          }
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          free(b.data);
          return fail(r, "a low surrogate without a high one");
        }
        if (cp == 0) {
          free(b.data);
          return fail(r, "\\u0000 is not allowed in a string");
        }
        if (buf_put_utf8(&b, cp) != 0) goto oom;
        continue;
      }
      default:
        r->pos--;
        free(b.data);
        return fail(r, "unknown escape \\%c", e);
    }
    if (buf_put(&b, plain) != 0) goto oom;
  }
  *out = b.data;
  return 0;
oom:
  free(b.data);
  return fail(r, "out of memory");
}

static int match_word(reader* r, const char* word) {
  size_t n = strlen(word);
  if (r->len - r->pos < n || memcmp(r->p + r->pos, word, n) != 0) return 0;
  r->pos += n;
  return 1;
}

/* An integer: optional minus, digits, no fraction or exponent. */
static int read_integer(reader* r, const char* key, long long* out) {
  size_t start = r->pos;
  int negative = 0;
  unsigned long long v = 0;
  if (peek(r) == '-') {
    negative = 1;
    r->pos++;
  }
  if (peek(r) < '0' || peek(r) > '9') return fail(r, "\"%s\": expected a value", key);
  if (peek(r) == '0' && r->pos + 1 < r->len && r->p[r->pos + 1] >= '0' && r->p[r->pos + 1] <= '9') {
    return fail(r, "\"%s\": a number may not start with 0", key);
  }
  while (peek(r) >= '0' && peek(r) <= '9') {
    unsigned d = (unsigned)(r->p[r->pos] - '0');
    if (v > (9223372036854775807ULL - d) / 10) {
      r->pos = start;
      return fail(r, "\"%s\": number out of range", key);
    }
    v = v * 10 + d;
    r->pos++;
  }
  if (peek(r) == '.' || peek(r) == 'e' || peek(r) == 'E') {
    return fail(r, "\"%s\": only whole numbers are accepted", key);
  }
  *out = negative ? -(long long)v : (long long)v;
  return 0;
}

/* Reads one value into `f` (key already set). */
static int read_value(reader* r, jc_field* f) {
  int c = peek(r);
  if (c == '"') {
    f->type = JC_STRING;
    return read_string(r, &f->string);
  }
  if (c == '-' || (c >= '0' && c <= '9')) {
    f->type = JC_INTEGER;
    return read_integer(r, f->key, &f->integer);
  }
  if (match_word(r, "true")) {
    f->type = JC_BOOL;
    f->boolean = 1;
    return 0;
  }
  if (match_word(r, "false")) {
    f->type = JC_BOOL;
    f->boolean = 0;
    return 0;
  }
  if (c == '[') {
    f->type = JC_STRING_ARRAY;
    r->pos++;
    skip_space(r);
    if (peek(r) == ']') {
      r->pos++;
      return 0;
    }
    for (;;) {
      char* s = NULL;
      skip_space(r);
      if (peek(r) != '"') return fail(r, "\"%s\": expected an array of strings", f->key);
      if (read_string(r, &s) != 0) return -1;
      char** items = (char**)realloc(f->items, (f->n_items + 1) * sizeof(char*));
      if (!items) {
        free(s);
        return fail(r, "out of memory");
      }
      f->items = items;
      f->items[f->n_items++] = s;
      skip_space(r);
      if (peek(r) == ',') {
        r->pos++;
        continue;
      }
      if (peek(r) == ']') {
        r->pos++;
        return 0;
      }
      return fail(r, "expected ',' or ']'");
    }
  }
  if (c == '{') return fail(r, "\"%s\": nested objects are not supported", f->key);
  if (match_word(r, "null")) {
    r->pos -= 4;
    return fail(r, "\"%s\": null is not a value here (leave the key out)", f->key);
  }
  return fail(r, "\"%s\": expected a value", f->key);
}

static void free_field(jc_field* f) {
  free(f->key);
  free(f->string);
  for (size_t i = 0; i < f->n_items; ++i) free(f->items[i]);
  free(f->items);
}

void jc_free(jc_object* obj) {
  if (!obj) return;
  for (size_t i = 0; i < obj->n_fields; ++i) free_field(&obj->fields[i]);
  free(obj->fields);
  obj->fields = NULL;
  obj->n_fields = 0;
}

int jc_parse(const char* text, size_t len, jc_object* out, char* err, size_t err_len) {
  reader r = {text, len, 0, err, err_len};
  jc_object obj = {NULL, 0};
  if (err_len > 0) err[0] = '\0';
  out->fields = NULL;
  out->n_fields = 0;
  skip_space(&r);
  if (at_end(&r)) return 0;
  if (peek(&r) != '{') return fail(&r, "expected an object ('{')");
  r.pos++;
  skip_space(&r);
  if (peek(&r) == '}') {
    r.pos++;
    goto done;
  }
  for (;;) {
    skip_space(&r);
    if (peek(&r) != '"') {
      fail(&r, "expected a key in quotes");
      goto error;
    }
    jc_field* grown = (jc_field*)realloc(obj.fields, (obj.n_fields + 1) * sizeof(jc_field));
    if (!grown) {
      fail(&r, "out of memory");
      goto error;
    }
    obj.fields = grown;
    jc_field* f = &obj.fields[obj.n_fields++];
    memset(f, 0, sizeof *f);
    size_t key_pos = r.pos;
    if (read_string(&r, &f->key) != 0) goto error;
    for (size_t i = 0; i + 1 < obj.n_fields; ++i) {
      if (strcmp(obj.fields[i].key, f->key) == 0) {
        r.pos = key_pos;
        fail(&r, "\"%s\" is given twice", f->key);
        goto error;
      }
    }
    skip_space(&r);
    if (peek(&r) != ':') {
      fail(&r, "expected ':' after \"%s\"", f->key);
      goto error;
    }
    r.pos++;
    skip_space(&r);
    if (read_value(&r, f) != 0) goto error;
    skip_space(&r);
    if (peek(&r) == ',') {
      r.pos++;
      continue;
    }
    if (peek(&r) == '}') {
      r.pos++;
      break;
    }
    fail(&r, "expected ',' or '}'");
    goto error;
  }
done:
  skip_space(&r);
  if (!at_end(&r)) {
    fail(&r, "text after the object");
    goto error;
  }
  *out = obj;
  return 0;
error:
  jc_free(&obj);
  return -1;
}

const jc_field* jc_find(const jc_object* obj, const char* key) {
  for (size_t i = 0; i < obj->n_fields; ++i) {
    if (strcmp(obj->fields[i].key, key) == 0) return &obj->fields[i];
  }
  return NULL;
}

int jc_check_keys(const jc_object* obj, const char* const* known, char* err, size_t err_len) {
  for (size_t i = 0; i < obj->n_fields; ++i) {
    int found = 0;
    for (const char* const* k = known; *k; ++k) {
      if (strcmp(obj->fields[i].key, *k) == 0) found = 1;
    }
    if (found) continue;
    /* "unknown key "x" (expected a, b or c)" */
    size_t used =
        (size_t)snprintf(err, err_len, "unknown key \"%.60s\" (expected ", obj->fields[i].key);
    for (const char* const* k = known; *k && used < err_len; ++k) {
      const char* sep = k == known ? "" : (k[1] ? ", " : " or ");
      used += (size_t)snprintf(err + used, err_len - used, "%s%s", sep, *k);
    }
    if (used < err_len) snprintf(err + used, err_len - used, ")");
    return -1;
  }
  return 0;
}

const char* jc_type_name(jc_type type) {
  switch (type) {
    case JC_STRING:
      return "a string";
    case JC_INTEGER:
      return "a whole number";
    case JC_BOOL:
      return "true or false";
    case JC_STRING_ARRAY:
      return "an array of strings";
  }
  return "a value";
}
