/* pal.c: pal tool kit for C, ABI v1 (docs/abi.md). See pal.h.
 *
 * Uses from the C library only malloc, realloc, free, memcpy, memchr, memcmp and strlen, so
 * a module built with wasi-libc imports from WASI no more than its start-up needs. */
#include "pal.h"

#include <stdlib.h>
#include <string.h>

/* ---- JSON reader ---------------------------------------------------------------------- */

enum { MAX_DEPTH = 64 };

static const char *ws(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* skip_string returns the byte after the closing quote of the string at p (p[0] == '"'), or
 * NULL. */
static const char *skip_string(const char *p, const char *end) {
  for (p++; p < end; p++) {
    unsigned char c = (unsigned char)*p;
    if (c == '"') return p + 1;
    if (c < 0x20) return NULL;
    if (c == '\\') {
      if (++p >= end) return NULL;
      switch (*p) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
          break;
        case 'u':
          if (end - p < 5) return NULL;
          for (int i = 1; i <= 4; i++)
            if (hexval(p[i]) < 0) return NULL;
          p += 4;
          break;
        default:
          return NULL;
      }
    }
  }
  return NULL;
}

static const char *skip_digits(const char *p, const char *end) {
  const char *s = p;
  while (p < end && *p >= '0' && *p <= '9') p++;
  return p == s ? NULL : p;
}

static const char *skip_number(const char *p, const char *end) {
  if (p < end && *p == '-') p++;
  if (p < end && *p == '0') {
    p++;
  } else if (!(p = skip_digits(p, end))) {
    return NULL;
  }
  if (p < end && *p == '.' && !(p = skip_digits(p + 1, end))) return NULL;
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < end && (*p == '+' || *p == '-')) p++;
    if (!(p = skip_digits(p, end))) return NULL;
  }
  return p;
}

static const char *skip_lit(const char *p, const char *end, const char *lit) {
  size_t n = strlen(lit);
  if ((size_t)(end - p) < n || memcmp(p, lit, n) != 0) return NULL;
  return p + n;
}

/* skip_value returns the byte after the JSON value starting at p, or NULL when there is none
 * or it is malformed or nested deeper than MAX_DEPTH. */
static const char *skip_value(const char *p, const char *end, int depth) {
  if (p >= end) return NULL;
  switch (*p) {
    case '"':
      return skip_string(p, end);
    case 't':
      return skip_lit(p, end, "true");
    case 'f':
      return skip_lit(p, end, "false");
    case 'n':
      return skip_lit(p, end, "null");
    case '{':
    case '[': {
      char close = *p == '{' ? '}' : ']';
      if (depth >= MAX_DEPTH) return NULL;
      p = ws(p + 1, end);
      if (p < end && *p == close) return p + 1;
      for (;;) {
        if (close == '}') {
          if (p >= end || *p != '"' || !(p = skip_string(p, end))) return NULL;
          p = ws(p, end);
          if (p >= end || *p != ':') return NULL;
          p = ws(p + 1, end);
        }
        if (!(p = skip_value(p, end, depth + 1))) return NULL;
        p = ws(p, end);
        if (p >= end) return NULL;
        if (*p == close) return p + 1;
        if (*p != ',') return NULL;
        p = ws(p + 1, end);
      }
    }
    default:
      return skip_number(p, end);
  }
}

pal_json pal_json_parse(const char *text, size_t n) {
  pal_json none = {0, 0};
  if (!text) return none;
  const char *end = text + n, *p = ws(text, end);
  const char *q = skip_value(p, end, 0);
  if (!q || ws(q, end) != end) return none;
  pal_json v = {p, (size_t)(q - p)};
  return v;
}

pal_json_kind pal_json_type(pal_json v) {
  if (!v.p || v.n == 0) return PAL_JSON_NONE;
  switch (v.p[0]) {
    case '{': return PAL_JSON_OBJECT;
    case '[': return PAL_JSON_ARRAY;
    case '"': return PAL_JSON_STRING;
    case 't': case 'f': return PAL_JSON_BOOL;
    case 'n': return PAL_JSON_NULL;
    default: return PAL_JSON_NUMBER;
  }
}

/* decode writes the string span's (quotes included) decoded bytes to out, which has room for
 * its length, and returns how many it wrote. The span was checked by skip_string. */
static size_t decode(const char *p, size_t n, char *out) {
  const char *end = p + n - 1; /* the closing quote */
  size_t o = 0;
  for (p++; p < end; p++) {
    if (*p != '\\') {
      out[o++] = *p;
      continue;
    }
    p++;
    switch (*p) {
      case 'b': out[o++] = '\b'; break;
      case 'f': out[o++] = '\f'; break;
      case 'n': out[o++] = '\n'; break;
      case 'r': out[o++] = '\r'; break;
      case 't': out[o++] = '\t'; break;
      case 'u': {
        unsigned long cp = 0;
        for (int i = 1; i <= 4; i++) cp = cp << 4 | (unsigned long)hexval(p[i]);
        p += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && end - p > 6 && p[1] == '\\' && p[2] == 'u') {
          unsigned long lo = 0;
          int ok = 1;
          for (int i = 3; i <= 6; i++) {
            int h = hexval(p[i]);
            if (h < 0) ok = 0;
            lo = lo << 4 | (unsigned long)(h < 0 ? 0 : h);
          }
          if (ok && lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            p += 6;
          }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD; /* a lone surrogate */
        if (cp < 0x80) {
          out[o++] = (char)cp;
        } else if (cp < 0x800) {
          out[o++] = (char)(0xC0 | cp >> 6);
          out[o++] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
          out[o++] = (char)(0xE0 | cp >> 12);
          out[o++] = (char)(0x80 | (cp >> 6 & 0x3F));
          out[o++] = (char)(0x80 | (cp & 0x3F));
        } else {
          out[o++] = (char)(0xF0 | cp >> 18);
          out[o++] = (char)(0x80 | (cp >> 12 & 0x3F));
          out[o++] = (char)(0x80 | (cp >> 6 & 0x3F));
          out[o++] = (char)(0x80 | (cp & 0x3F));
        }
        break;
      }
      default: /* '"', '\\', '/' */
        out[o++] = *p;
    }
  }
  return o;
}

char *pal_json_str(pal_json v) {
  if (pal_json_type(v) != PAL_JSON_STRING || !skip_string(v.p, v.p + v.n)) return NULL;
  char *out = malloc(v.n);
  if (!out) return NULL;
  size_t n = decode(v.p, v.n, out);
  out[n] = 0;
  return out;
}

char *pal_json_strdef(pal_json v) {
  char *s = pal_json_str(v);
  if (!s && (s = malloc(1))) s[0] = 0;
  return s;
}

/* key_is reports whether the string span k (quotes included) decodes to key. */
static int key_is(const char *k, size_t n, const char *key) {
  size_t kl = strlen(key);
  if (!memchr(k, '\\', n)) return n - 2 == kl && memcmp(k + 1, key, kl) == 0;
  char *d = malloc(n);
  if (!d) return 0;
  size_t dn = decode(k, n, d);
  int same = dn == kl && memcmp(d, key, kl) == 0;
  free(d);
  return same;
}

pal_json pal_json_get(pal_json obj, const char *key) {
  pal_json none = {0, 0};
  if (pal_json_type(obj) != PAL_JSON_OBJECT) return none;
  const char *end = obj.p + obj.n, *p = ws(obj.p + 1, end);
  while (p < end && *p == '"') {
    const char *k = p;
    if (!(p = skip_string(p, end))) return none;
    size_t kn = (size_t)(p - k);
    p = ws(p, end);
    if (p >= end || *p != ':') return none;
    p = ws(p + 1, end);
    const char *v = p;
    if (!(p = skip_value(p, end, 1))) return none;
    if (key_is(k, kn, key)) {
      pal_json found = {v, (size_t)(p - v)};
      return found;
    }
    p = ws(p, end);
    if (p >= end || *p != ',') return none;
    p = ws(p + 1, end);
  }
  return none;
}

int pal_json_next_member(pal_json obj, pal_json *key, pal_json *val) {
  if (pal_json_type(obj) != PAL_JSON_OBJECT) return 0;
  const char *end = obj.p + obj.n, *p;
  if (!key->p) {
    p = ws(obj.p + 1, end);
  } else {
    if (val->p < obj.p || val->p + val->n > end) return 0;
    p = ws(val->p + val->n, end);
    if (p >= end || *p != ',') return 0;
    p = ws(p + 1, end);
  }
  const char *k = p;
  if (p >= end || *p != '"' || !(p = skip_string(p, end))) return 0;
  const char *kend = p;
  p = ws(p, end);
  if (p >= end || *p != ':') return 0;
  p = ws(p + 1, end);
  const char *v = p;
  if (!(p = skip_value(p, end, 1))) return 0;
  key->p = k;
  key->n = (size_t)(kend - k);
  val->p = v;
  val->n = (size_t)(p - v);
  return 1;
}

int pal_json_next(pal_json arr, pal_json *it) {
  if (pal_json_type(arr) != PAL_JSON_ARRAY) return 0;
  const char *end = arr.p + arr.n, *p;
  if (!it->p) {
    p = ws(arr.p + 1, end);
  } else {
    if (it->p < arr.p || it->p + it->n > end) return 0;
    p = ws(it->p + it->n, end);
    if (p >= end || *p != ',') return 0;
    p = ws(p + 1, end);
  }
  const char *q = skip_value(p, end, 1);
  if (!q) return 0;
  it->p = p;
  it->n = (size_t)(q - p);
  return 1;
}

double pal_json_num(pal_json v, double def) {
  if (pal_json_type(v) != PAL_JSON_NUMBER || skip_number(v.p, v.p + v.n) != v.p + v.n) return def;
  const char *p = v.p, *end = v.p + v.n;
  double sign = 1, x = 0, scale = 1;
  if (*p == '-') sign = -1, p++;
  while (p < end && *p >= '0' && *p <= '9') x = x * 10 + (*p++ - '0');
  if (p < end && *p == '.')
    for (p++; p < end && *p >= '0' && *p <= '9'; p++) x += (*p - '0') * (scale /= 10);
  if (p < end && (*p == 'e' || *p == 'E')) {
    int esign = 1, e = 0;
    p++;
    if (*p == '+' || *p == '-') esign = *p++ == '-' ? -1 : 1;
    while (p < end && e < 400) e = e * 10 + (*p++ - '0');
    while (e-- > 0) x = esign > 0 ? x * 10 : x / 10;
  }
  return sign * x;
}

int pal_json_bool(pal_json v) { return v.n == 4 && memcmp(v.p, "true", 4) == 0; }

/* ---- Buffer and writer ---------------------------------------------------------------- */

void pal_buf_put(pal_buf *b, const void *s, size_t n) {
  if (b->failed) return;
  if (b->len + n + 1 < b->len) {
    b->failed = 1;
    return;
  }
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n + 1) {
      if (cap > (size_t)-1 / 2) {
        cap = b->len + n + 1;
        break;
      }
      cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) {
      b->failed = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  if (n) memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = 0;
}

void pal_buf_puts(pal_buf *b, const char *s) { pal_buf_put(b, s, strlen(s)); }

void pal_buf_int(pal_buf *b, long long v) {
  char d[24];
  int i = sizeof d;
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
  do d[--i] = (char)('0' + u % 10); while (u /= 10);
  if (v < 0) d[--i] = '-';
  pal_buf_put(b, d + i, sizeof d - (size_t)i);
}

void pal_buf_num(pal_buf *b, double v) {
  if (v != v || v - v != 0) { /* NaN or an infinity */
    pal_buf_puts(b, "0");
    return;
  }
  if (v < 0) {
    pal_buf_puts(b, "-");
    v = -v;
  }
  int exp = 0;
  while (v >= 1e15) v /= 10, exp++;
  if (v > 0 && v < 1e-4) /* six decimals would round it away */
    while (v < 1) v *= 10, exp--;
  long long ip = (long long)v;
  long long frac = (long long)((v - (double)ip) * 1e6 + 0.5);
  if (frac >= 1000000) ip++, frac = 0;
  pal_buf_int(b, ip);
  if (frac) {
    char d[8] = ".";
    for (int i = 6; i >= 1; i--) d[i] = (char)('0' + frac % 10), frac /= 10;
    int n = 7;
    while (d[n - 1] == '0') n--;
    pal_buf_put(b, d, (size_t)n);
  }
  if (exp) {
    pal_buf_puts(b, "e");
    pal_buf_int(b, exp);
  }
}

/* utf8_len returns the length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  size_t len;
  unsigned long cp, min;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F, min = 0x80;
  else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F, min = 0x800;
  else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07, min = 0x10000;
  else return 0;
  if (n < len) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (s[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

void pal_buf_quote(pal_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0, start = 0;
  pal_buf_put(b, "\"", 1);
  while (i < n) {
    unsigned char c = u[i];
    const char *esc = NULL;
    char ubuf[7];
    size_t l = 1;
    if (c == '"') esc = "\\\"";
    else if (c == '\\') esc = "\\\\";
    else if (c == '\n') esc = "\\n";
    else if (c == '\r') esc = "\\r";
    else if (c == '\t') esc = "\\t";
    else if (c < 0x20) {
      memcpy(ubuf, "\\u00", 4);
      ubuf[4] = hex[c >> 4];
      ubuf[5] = hex[c & 15];
      ubuf[6] = 0;
      esc = ubuf;
    } else if (c >= 0x80 && !(l = utf8_len(u + i, n - i))) {
      esc = "\xEF\xBF\xBD"; /* U+FFFD for a byte that is not UTF-8 */
      l = 1;
    }
    if (esc) {
      pal_buf_put(b, s + start, i - start);
      pal_buf_puts(b, esc);
      start = i + l;
    }
    i += l;
  }
  pal_buf_put(b, s + start, n - start);
  pal_buf_put(b, "\"", 1);
}

void pal_buf_free(pal_buf *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
  b->failed = 0;
}

void pal_json_sep(pal_buf *b) {
  if (b->len && b->p[b->len - 1] != '{' && b->p[b->len - 1] != '[' && b->p[b->len - 1] != ':') pal_buf_put(b, ",", 1);
}

void pal_json_key(pal_buf *b, const char *key) {
  pal_json_sep(b);
  pal_buf_quote(b, key, strlen(key));
  pal_buf_put(b, ":", 1);
}

void pal_json_kstr(pal_buf *b, const char *key, const char *val) {
  pal_json_key(b, key);
  pal_buf_quote(b, val, strlen(val));
}

void pal_json_knum(pal_buf *b, const char *key, double val) {
  pal_json_key(b, key);
  pal_buf_num(b, val);
}

void pal_json_kbool(pal_buf *b, const char *key, int val) {
  pal_json_key(b, key);
  pal_buf_puts(b, val ? "true" : "false");
}

void pal_json_kraw(pal_buf *b, const char *key, const char *json) {
  pal_json_key(b, key);
  pal_buf_puts(b, json);
}

/* ---- Tools and the manifest ----------------------------------------------------------- */

enum { MAX_TOOLS = 64 };

static const char *module_name = "c-tool", *module_version = "0.1.0";
static const pal_tool *tools[MAX_TOOLS];
static size_t ntools;
static int initialised;

static void init_once(void) {
  if (!initialised) {
    initialised = 1;
    pal_init();
  }
}

void pal_module(const char *name, const char *version) {
  module_name = name;
  module_version = version;
}

void pal_register(const pal_tool *t) {
  if (ntools < MAX_TOOLS) tools[ntools++] = t;
  else pal_log(PAL_LOG_ERROR, "pal_register: more than 64 tools; the rest are left out");
}

static void hint(pal_buf *b, const char *key, pal_hint h) {
  if (h != PAL_UNSET) pal_json_kbool(b, key, h == PAL_TRUE);
}

static pal_buf manifest;

const char *pal_manifest(size_t *n) {
  init_once();
  if (!manifest.len) {
    pal_buf *b = &manifest;
    pal_buf_puts(b, "{");
    pal_json_knum(b, "abi", PAL_ABI);
    pal_json_kstr(b, "name", module_name);
    pal_json_kstr(b, "version", module_version);
    pal_json_key(b, "tools");
    pal_buf_puts(b, "[");
    for (size_t i = 0; i < ntools; i++) {
      const pal_tool *t = tools[i];
      pal_json_sep(b);
      pal_buf_puts(b, "{");
      pal_json_kstr(b, "name", t->name ? t->name : "");
      if (t->title) pal_json_kstr(b, "title", t->title);
      pal_json_kstr(b, "description", t->description ? t->description : "");
      pal_json_kraw(b, "inputSchema", t->input_schema ? t->input_schema : "{\"type\":\"object\"}");
      pal_json_key(b, "annotations");
      pal_buf_puts(b, "{");
      hint(b, "readOnlyHint", t->read_only);
      hint(b, "destructiveHint", t->destructive);
      hint(b, "idempotentHint", t->idempotent);
      hint(b, "openWorldHint", t->open_world);
      pal_buf_puts(b, "}");
      pal_json_key(b, "capabilities");
      pal_buf_puts(b, "[");
      for (const char *const *c = t->capabilities; c && *c; c++) {
        pal_json_sep(b);
        pal_buf_quote(b, *c, strlen(*c));
      }
      pal_buf_puts(b, "]");
      if (t->category) pal_json_kstr(b, "category", t->category);
      if (t->requires_model) pal_json_kbool(b, "requiresModel", 1);
      pal_buf_puts(b, "}");
    }
    pal_buf_puts(b, "]}");
  }
  if (manifest.failed || !manifest.p) {
    *n = 0;
    return "";
  }
  *n = manifest.len;
  return manifest.p;
}

/* ---- Results ---------------------------------------------------------------------------- */

pal_result *pal_result_new(int is_error) {
  pal_result *r = calloc(1, sizeof *r);
  if (!r) __builtin_trap(); /* the host reports the call as failed */
  r->is_error = is_error;
  return r;
}

static pal_result *result_of(const char *s, int is_error) {
  pal_result *r = pal_result_new(is_error);
  pal_buf_puts(&r->text, s);
  return r;
}

pal_result *pal_text(const char *s) { return result_of(s, 0); }
pal_result *pal_error_result(const char *s) { return result_of(s, 1); }

void pal_result_free(pal_result *r) {
  if (!r) return;
  pal_buf_free(&r->text);
  pal_buf_free(&r->structured);
  free(r);
}

/* ---- The exports ------------------------------------------------------------------------ */

void *pal_alloc(size_t size) {
  if (size + 1 < size) return NULL;
  char *p = malloc(size + 1); /* one byte more, always 0: a reply is NUL-terminated */
  if (p) p[size] = 0;
  return p;
}

void pal_free(void *p) { free(p); }

static pal_buf out;

static const char oom_result[] =
    "{\"content\":[{\"type\":\"text\",\"text\":\"the tool ran out of memory writing its result\"}],\"isError\":true}";

const char *pal_handle(char *req, size_t n, size_t *out_n) {
  init_once();
  pal_buf_free(&out);
  pal_json r = pal_json_parse(req, n);
  pal_result *res = NULL;
  char *name = NULL, *call_id = NULL;
  if (pal_json_type(r) != PAL_JSON_OBJECT) {
    res = pal_error_result("the host sent a request that is not a JSON object");
  } else {
    name = pal_json_strdef(pal_json_get(r, "tool"));
    call_id = pal_json_strdef(pal_json_get(r, "call_id"));
    const pal_tool *t = NULL;
    for (size_t i = 0; name && i < ntools; i++)
      if (tools[i]->name && strcmp(tools[i]->name, name) == 0) t = tools[i];
    if (!name || !call_id) {
      res = NULL;
    } else if (!t || !t->handler) {
      res = pal_result_new(1);
      pal_buf_puts(&res->text, "this module has no tool named ");
      pal_buf_quote(&res->text, name, strlen(name));
    } else {
      pal_call c = {name, call_id, pal_json_get(r, "arguments")};
      if (pal_json_type(c.args) != PAL_JSON_OBJECT) c.args.p = NULL, c.args.n = 0;
      res = t->handler(&c);
      if (!res) res = pal_error_result("the tool returned no result");
    }
  }
  free(name);
  free(call_id);
  pal_free(req);
  if (res && !res->text.failed && !res->structured.failed) {
    pal_buf_puts(&out, "{\"content\":[{\"type\":\"text\",\"text\":");
    pal_buf_quote(&out, res->text.p ? res->text.p : "", res->text.len);
    pal_buf_puts(&out, "}]");
    pal_json_kbool(&out, "isError", res->is_error);
    if (res->structured.len) {
      if (pal_json_type(pal_json_parse(res->structured.p, res->structured.len)) == PAL_JSON_OBJECT) {
        pal_json_key(&out, "structuredContent");
        pal_buf_put(&out, res->structured.p, res->structured.len);
      } else {
        pal_log(PAL_LOG_ERROR, "the tool's structured result is not a JSON object; left out");
      }
    }
    pal_buf_puts(&out, "}");
  }
  pal_result_free(res);
  if (!res || out.failed || !out.p) {
    pal_buf_free(&out);
    *out_n = sizeof oom_result - 1;
    return oom_result;
  }
  *out_n = out.len;
  return out.p;
}

#ifdef __wasm__
__attribute__((import_module("pal"), import_name("call"))) uint64_t pal_import_call(uint32_t ptr, uint32_t len);
__attribute__((import_module("pal"), import_name("log"))) void pal_import_log(int32_t level, uint32_t ptr, uint32_t len);

static void *pal_host_call(const void *req, size_t n, size_t *out_n) {
  uint64_t packed = pal_import_call((uint32_t)(uintptr_t)req, (uint32_t)n);
  if (!packed) return NULL;
  *out_n = (size_t)(uint32_t)packed;
  return (void *)(uintptr_t)(uint32_t)(packed >> 32);
}

static void pal_host_log(int level, const char *msg, size_t n) {
  pal_import_log(level, (uint32_t)(uintptr_t)msg, (uint32_t)n);
}

static uint64_t pack(const void *p, size_t n) { return (uint64_t)(uintptr_t)p << 32 | (uint32_t)n; }

__attribute__((export_name("alloc"))) uint32_t pal_export_alloc(uint32_t size) {
  return (uint32_t)(uintptr_t)pal_alloc(size);
}

__attribute__((export_name("free"))) void pal_export_free(uint32_t p) { pal_free((void *)(uintptr_t)p); }

__attribute__((export_name("describe"))) uint64_t pal_export_describe(void) {
  size_t n;
  const char *m = pal_manifest(&n);
  return pack(m, n);
}

__attribute__((export_name("handle"))) uint64_t pal_export_handle(uint32_t p, uint32_t n) {
  size_t on;
  const char *o = pal_handle((char *)(uintptr_t)p, n, &on);
  return pack(o, on);
}
#endif

/* ---- Host calls ------------------------------------------------------------------------- */

static pal_error *new_error(const char *code, const char *message) {
  pal_error *e = malloc(sizeof *e);
  if (!e) return NULL;
  size_t cn = strlen(code) + 1, mn = strlen(message) + 1;
  e->code = malloc(cn);
  e->message = malloc(mn);
  if (!e->code || !e->message) {
    free(e->code);
    free(e->message);
    free(e);
    return NULL;
  }
  memcpy(e->code, code, cn);
  memcpy(e->message, message, mn);
  return e;
}

/* A static stand-in when even the error cannot be allocated: callers test error != NULL. */
static char oom_code[] = PAL_ERR_INTERNAL, oom_message[] = "the tool is out of memory";
static pal_error oom_error = {oom_code, oom_message};

static pal_error *fail(const char *code, const char *message) {
  pal_error *e = new_error(code, message);
  return e ? e : &oom_error;
}

void pal_error_free(pal_error *e) {
  if (!e || e == &oom_error) return;
  free(e->code);
  free(e->message);
  free(e);
}

char *pal_error_string(const pal_error *e) {
  pal_buf b = {0};
  if (e) {
    pal_buf_puts(&b, e->code);
    pal_buf_puts(&b, ": ");
    pal_buf_puts(&b, e->message);
  }
  if (!b.p) pal_buf_puts(&b, "");
  return b.p;
}

int pal_error_is(const pal_error *e, const char *code) { return e && strcmp(e->code, code) == 0; }

pal_reply pal_request(const char *req, size_t req_len, const void *body, size_t body_len) {
  pal_reply r = {0};
  if (body && body_len > (size_t)-1 - req_len - 1) {
    r.error = fail(PAL_ERR_TOO_LARGE, "the request is larger than the address space");
    return r;
  }
  size_t total = req_len + (body ? 1 + body_len : 0);
  char *msg = malloc(total ? total : 1);
  if (!msg) {
    r.error = fail(PAL_ERR_INTERNAL, "the tool is out of memory");
    return r;
  }
  memcpy(msg, req, req_len);
  if (body) {
    msg[req_len] = 0;
    memcpy(msg + req_len + 1, body, body_len);
  }
  size_t n = 0;
  char *p = pal_host_call(msg, total, &n);
  free(msg);
  if (!p) {
    r.error = fail(PAL_ERR_INTERNAL, "the host could not place its reply (alloc failed)");
    return r;
  }
  r.head = p;
  char *zero = memchr(p, 0, n);
  size_t head_len = zero ? (size_t)(zero - p) : n;
  if (zero) {
    r.body = zero + 1;
    r.body_len = n - head_len - 1;
  } else {
    r.body = p + n; /* the NUL pal_alloc put after the reply */
  }
  pal_json reply = pal_json_parse(p, head_len);
  if (pal_json_type(reply) != PAL_JSON_OBJECT) {
    r.error = fail(PAL_ERR_INTERNAL, "the host's reply is not a JSON object");
    return r;
  }
  pal_json e = pal_json_get(reply, "error");
  if (e.n) {
    char *code = pal_json_str(pal_json_get(e, "code"));
    char *message = pal_json_strdef(pal_json_get(e, "message"));
    r.error = fail(code ? code : PAL_ERR_INTERNAL, message ? message : "");
    free(code);
    free(message);
    return r;
  }
  r.result = pal_json_get(reply, "result");
  return r;
}

void pal_reply_free(pal_reply *r) {
  pal_error_free(r->error);
  pal_free(r->head);
  memset(r, 0, sizeof *r);
}

void pal_log(int level, const char *msg) { pal_host_log(level, msg, strlen(msg)); }

/* call_op sends the request in b (freed) with an optional body. */
static pal_reply call_op(pal_buf *b, const void *body, size_t body_len) {
  pal_buf_puts(b, "}");
  pal_reply r = {0};
  if (b->failed) r.error = fail(PAL_ERR_INTERNAL, "the tool is out of memory");
  else r = pal_request(b->p, b->len, body, body_len);
  pal_buf_free(b);
  return r;
}

static void begin(pal_buf *b, const char *op) {
  pal_buf_puts(b, "{");
  pal_json_kstr(b, "op", op);
}

/* take moves the error out of r (so that freeing r leaves it). */
static pal_error *take(pal_reply *r) {
  pal_error *e = r->error;
  r->error = NULL;
  return e;
}

pal_error *pal_progress(double done, double total, const char *msg) {
  pal_buf b = {0};
  begin(&b, "progress");
  pal_json_knum(&b, "progress", done);
  if (total > 0) pal_json_knum(&b, "total", total);
  if (msg) pal_json_kstr(&b, "message", msg);
  pal_reply r = call_op(&b, NULL, 0);
  pal_error *e = take(&r);
  pal_reply_free(&r);
  return e;
}

pal_file pal_fs_read(const char *path, size_t max_bytes) {
  pal_file f = {0};
  pal_buf b = {0};
  begin(&b, "fs.read");
  pal_json_kstr(&b, "path", path);
  if (max_bytes) pal_json_knum(&b, "max_bytes", (double)max_bytes);
  f.reply_ = call_op(&b, NULL, 0);
  if ((f.error = take(&f.reply_))) {
    pal_reply_free(&f.reply_);
    return f;
  }
  pal_json res = f.reply_.result;
  f.path = pal_json_strdef(pal_json_get(res, "path"));
  f.size = pal_json_num(pal_json_get(res, "size"), 0);
  f.truncated = pal_json_bool(pal_json_get(res, "truncated"));
  f.redacted = (int)pal_json_num(pal_json_get(res, "redacted"), 0);
  f.data = f.reply_.body;
  f.len = f.reply_.body_len;
  return f;
}

void pal_file_free(pal_file *f) {
  pal_error_free(f->error);
  free(f->path);
  pal_reply_free(&f->reply_);
  memset(f, 0, sizeof *f);
}

pal_listing pal_fs_list(const char *path, int max_depth, int max_entries) {
  pal_listing l = {0};
  pal_buf b = {0};
  begin(&b, "fs.list");
  pal_json_kstr(&b, "path", path);
  if (max_depth > 0) pal_json_knum(&b, "max_depth", max_depth);
  if (max_entries > 0) pal_json_knum(&b, "max_entries", max_entries);
  pal_reply r = call_op(&b, NULL, 0);
  if ((l.error = take(&r))) {
    pal_reply_free(&r);
    return l;
  }
  pal_json es = pal_json_get(r.result, "entries"), it = {0};
  size_t n = 0;
  while (pal_json_next(es, &it)) n++;
  l.entries = calloc(n ? n : 1, sizeof *l.entries);
  if (!l.entries) {
    l.error = fail(PAL_ERR_INTERNAL, "the tool is out of memory");
    pal_reply_free(&r);
    return l;
  }
  it.p = NULL;
  it.n = 0;
  while (l.count < n && pal_json_next(es, &it)) {
    pal_entry *e = &l.entries[l.count++];
    e->path = pal_json_strdef(pal_json_get(it, "path"));
    e->kind = pal_json_strdef(pal_json_get(it, "kind"));
    e->size = pal_json_num(pal_json_get(it, "size"), 0);
  }
  l.truncated = pal_json_bool(pal_json_get(r.result, "truncated"));
  pal_reply_free(&r);
  return l;
}

void pal_listing_free(pal_listing *l) {
  pal_error_free(l->error);
  for (size_t i = 0; i < l->count; i++) {
    free(l->entries[i].path);
    free(l->entries[i].kind);
  }
  free(l->entries);
  memset(l, 0, sizeof *l);
}

pal_generation pal_model_generate(const char *prompt, size_t prompt_len, const pal_generate_opts *o) {
  pal_generation g = {0};
  pal_buf b = {0};
  begin(&b, "model.generate");
  if (o) {
    if (o->model && *o->model) pal_json_kstr(&b, "model", o->model);
    if (o->category && *o->category) pal_json_kstr(&b, "category", o->category);
    if (o->system && *o->system) pal_json_kstr(&b, "system", o->system);
    if (o->has_temperature) pal_json_knum(&b, "temperature", o->temperature);
    if (o->thinking_mode && *o->thinking_mode) pal_json_kstr(&b, "thinking_mode", o->thinking_mode);
  }
  pal_reply r = call_op(&b, prompt, prompt_len);
  if ((g.error = take(&r))) {
    pal_reply_free(&r);
    return g;
  }
  g.content = pal_json_strdef(pal_json_get(r.result, "content"));
  g.model = pal_json_strdef(pal_json_get(r.result, "model"));
  g.provider = pal_json_strdef(pal_json_get(r.result, "provider"));
  g.finish_reason = pal_json_strdef(pal_json_get(r.result, "finish_reason"));
  pal_reply_free(&r);
  return g;
}

void pal_generation_free(pal_generation *g) {
  pal_error_free(g->error);
  free(g->content);
  free(g->model);
  free(g->provider);
  free(g->finish_reason);
  memset(g, 0, sizeof *g);
}
