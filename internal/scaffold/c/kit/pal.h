/* pal.h: pal tool kit for C, ABI v1 (docs/abi.md).
 *
 * A tool module is one or more C files compiled with pal.c for wasm32-wasi as a reactor:
 *
 *   clang-14 --target=wasm32-wasi -O2 -mexec-model=reactor -Wl,--strip-all \
 *       -I<kit> -o tool.wasm tool.c <kit>/pal.c
 *
 * The module exports alloc, free, describe and handle (defined in pal.c) and imports pal.call,
 * pal.log, and from WASI only what wasi-libc's malloc and start-up need (no file, no
 * environment, no arguments: pal gives none). The tool file defines pal_init(), which names
 * the module and registers its tools; the kit calls it once per instance, before the first
 * describe or handle.
 *
 *   #include "pal.h"
 *
 *   static const char *const caps[] = {PAL_CAP_FS_READ, NULL};
 *   static pal_result *count(const pal_call *call);
 *   static const pal_tool wordcount = {
 *       .name = "wordcount", .title = "Count words", .description = "Counts the words in one file.",
 *       .input_schema = "{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"}},\"required\":[\"path\"]}",
 *       .capabilities = caps, .read_only = PAL_TRUE, .handler = count,
 *   };
 *   void pal_init(void) { pal_module("wordcount", "0.1.0"); pal_register(&wordcount); }
 *
 * Every op returns its refusal (a pal_error, code one of PAL_ERR_*) instead of trapping.
 * Memory: every string and buffer the kit returns is malloc'ed and owned by the caller (free
 * it with the matching pal_*_free); nothing survives a call, as pal runs each call in a fresh
 * instance.
 *
 * Natively (not __wasm__), pal.c expects the two host functions pal_host_call and
 * pal_host_log, which fakehost.c provides: a tool's handlers run under a plain C compiler
 * against an in-memory host for tests. */
#ifndef PAL_H
#define PAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this kit implements (the kit's version is 1.x). */
#define PAL_ABI 1

/* Capabilities, as docs/abi.md names them. */
#define PAL_CAP_FS_READ "fs.read"
#define PAL_CAP_FS_LIST "fs.list"
#define PAL_CAP_MODEL_GENERATE "model.generate"
#define PAL_CAP_MODEL_LIST "model.list"
#define PAL_CAP_THREAD_READ "thread.read"
#define PAL_CAP_THREAD_WRITE "thread.write"
#define PAL_CAP_PROGRESS "progress"
#define PAL_CAP_HOST_INFO "host.info"
#define PAL_CAP_GIT_READ "git.read"
#define PAL_CAP_CLI_RUN "cli.run"

/* Error codes of host replies. The kit uses PAL_ERR_INTERNAL for its own failures (no memory,
 * a reply that is not JSON). */
#define PAL_ERR_DENIED "denied"           /* the policy refuses the path or argument */
#define PAL_ERR_NOT_GRANTED "not_granted" /* the op's capability is not in this call's grant */
#define PAL_ERR_INVALID "invalid"
#define PAL_ERR_UNKNOWN_OP "unknown_op"
#define PAL_ERR_NOT_FOUND "not_found"
#define PAL_ERR_TOO_LARGE "too_large"
#define PAL_ERR_UNAVAILABLE "unavailable"
#define PAL_ERR_UPSTREAM "upstream"
#define PAL_ERR_CANCELLED "cancelled"
#define PAL_ERR_INTERNAL "internal"
#define PAL_ERR_OVER_BUDGET "over_budget"
#define PAL_ERR_REENTRANT "reentrant"

/* Levels of pal_log. */
enum { PAL_LOG_DEBUG = 0, PAL_LOG_INFO = 1, PAL_LOG_WARN = 2, PAL_LOG_ERROR = 3 };

/* ---- JSON reader ----------------------------------------------------------------------
 * A pal_json is a span of text holding one JSON value; n == 0 means absent. Spans point into
 * text the caller owns (a reply, the request). Accessors never read outside the span and
 * return "absent" (or the default) on anything malformed. */
typedef struct {
  const char *p;
  size_t n;
} pal_json;

typedef enum {
  PAL_JSON_NONE = 0, /* absent or malformed */
  PAL_JSON_NULL,
  PAL_JSON_BOOL,
  PAL_JSON_NUMBER,
  PAL_JSON_STRING,
  PAL_JSON_ARRAY,
  PAL_JSON_OBJECT
} pal_json_kind;

/* Checks that text[0:n] is exactly one JSON value (whitespace around it allowed, nesting at
 * most 64 deep) and returns its span, or an absent one. */
pal_json pal_json_parse(const char *text, size_t n);
pal_json_kind pal_json_type(pal_json v);
/* The value of key in object obj (the first one when repeated), or absent. */
pal_json pal_json_get(pal_json obj, const char *key);
/* Iterates an array: start with it = {0}; each call moves it to the next element and returns
 * 1, or returns 0 after the last. */
int pal_json_next(pal_json arr, pal_json *it);
/* Iterates an object's members in order: start with key = {0}; each call moves key to the
 * next member's name (a string value: pal_json_str decodes it) and val to its value and
 * returns 1, or returns 0 after the last. */
int pal_json_next_member(pal_json obj, pal_json *key, pal_json *val);
/* A string value decoded to UTF-8 and NUL-terminated (malloc'ed; free it), or NULL when v is
 * not a string. A string holding \u0000 is cut there. */
char *pal_json_str(pal_json v);
/* Like pal_json_str, but "" (never NULL) for anything that is not a string. */
char *pal_json_strdef(pal_json v);
/* A number value, or def when v is not a number. */
double pal_json_num(pal_json v, double def);
/* 1 for true, 0 for anything else. */
int pal_json_bool(pal_json v);

/* ---- Growing buffer and JSON writer ---------------------------------------------------
 * A pal_buf starts zeroed ({0}); p is NUL-terminated once anything was added. On a failed
 * allocation it sets failed and ignores further writes. */
typedef struct {
  char *p;
  size_t len, cap;
  int failed;
} pal_buf;

void pal_buf_put(pal_buf *b, const void *s, size_t n);
void pal_buf_puts(pal_buf *b, const char *s);
void pal_buf_int(pal_buf *b, long long v);
/* Writes a finite number as JSON: six significant decimals at most, an exponent from 1e15 up
 * and below 1e-4 (1.5e-9); NaN and infinities as 0. */
void pal_buf_num(pal_buf *b, double v);
/* Writes s[0:n] as a JSON string, quotes included; invalid UTF-8 bytes become U+FFFD. */
void pal_buf_quote(pal_buf *b, const char *s, size_t n);
void pal_buf_free(pal_buf *b);

/* Object and array writing: pal_json_key adds the separating comma when one is due (the
 * buffer's last byte is not '{', '[' or ':'), the quoted key and ':'; pal_json_sep adds the
 * comma alone, before an array element. */
void pal_json_sep(pal_buf *b);
void pal_json_key(pal_buf *b, const char *key);
void pal_json_kstr(pal_buf *b, const char *key, const char *val);
void pal_json_knum(pal_buf *b, const char *key, double val);
void pal_json_kbool(pal_buf *b, const char *key, int val);
void pal_json_kraw(pal_buf *b, const char *key, const char *json);

/* ---- Tools and the manifest ---------------------------------------------------------- */

/* An annotation hint: left out of the manifest (the host publishes MCP's safe default), or
 * given. */
typedef enum { PAL_UNSET = 0, PAL_TRUE = 1, PAL_FALSE = 2 } pal_hint;

/* One tool call: the tool's name, the call id and the client's arguments (an object, already
 * checked against the tool's input schema by the host; absent when there were none). */
typedef struct {
  const char *tool;
  const char *call_id;
  pal_json args;
} pal_call;

/* A tool's result: an MCP CallToolResult with one text item and, when structured holds any
 * JSON, structuredContent. */
typedef struct {
  int is_error;
  pal_buf text;
  pal_buf structured;
} pal_result;

typedef pal_result *(*pal_handler)(const pal_call *call);

/* One tool, as the manifest describes it (docs/abi.md "Manifest"). name: 1 to 64 of
 * [a-z0-9_], starting with a letter. input_schema: a JSON Schema object as text.
 * capabilities: NULL-terminated PAL_CAP_* list of what the tool may ask for (pal.toml must
 * grant them too). category: "fast", "balanced", "extended" or NULL (the host takes
 * balanced). requires_model: the host describes the tool's `model` argument. */
typedef struct {
  const char *name;
  const char *title;
  const char *description;
  const char *input_schema;
  const char *const *capabilities;
  pal_hint read_only, destructive, idempotent, open_world;
  const char *category;
  int requires_model;
  pal_handler handler;
} pal_tool;

/* Defined by the tool: names the module and registers its tools. */
void pal_init(void);
/* Names the module in its manifest (default "c-tool" "0.1.0"). The strings must outlive the
 * instance (string literals do). */
void pal_module(const char *name, const char *version);
/* Adds a tool (at most 64); t must outlive the instance (a static). */
void pal_register(const pal_tool *t);
/* The manifest describe returns, NUL-terminated (owned by the kit). */
const char *pal_manifest(size_t *n);

/* Results: a new result whose text is s (copied). A handler returns one; the kit frees it.
 * These three trap when memory is exhausted (pal reports the call as failed). */
pal_result *pal_text(const char *s);
pal_result *pal_error_result(const char *s);
/* An empty result to fill with pal_buf_* on ->text and ->structured. */
pal_result *pal_result_new(int is_error);
void pal_result_free(pal_result *r);

/* ---- Host calls ---------------------------------------------------------------------- */

/* A refusal or failure: code is one of PAL_ERR_*, message the host's text. */
typedef struct {
  char *code;
  char *message;
} pal_error;

void pal_error_free(pal_error *e);
/* "code: message" (malloc'ed). */
char *pal_error_string(const pal_error *e);
/* Whether e is non-NULL and has this code. */
int pal_error_is(const pal_error *e, const char *code);

/* A reply to an op: error, or result (a span into head) and body (into the same buffer,
 * NUL-terminated after body_len bytes; NULL when the reply has none). */
typedef struct {
  pal_error *error;
  char *head;
  pal_json result;
  char *body;
  size_t body_len;
} pal_reply;

/* Performs one op: req is the request's JSON object (with "op"), body its optional binary
 * body (NULL for none). Every op of ABI 1 is reachable through it; the functions below wrap
 * the common ones. */
pal_reply pal_request(const char *req, size_t req_len, const void *body, size_t body_len);
void pal_reply_free(pal_reply *r);

/* Writes a line to the server's log, never to the client. */
void pal_log(int level, const char *msg);

/* Sends a progress notification (capability progress); total 0 and msg NULL are left out.
 * Returns the refusal or NULL. */
pal_error *pal_progress(double done, double total, const char *msg);

/* fs.read (capability fs.read): an absolute path, at most max_bytes (0: the policy's cap).
 * data holds len bytes, secrets redacted, NUL-terminated. */
typedef struct {
  pal_error *error;
  char *path;
  double size; /* on disk, in bytes */
  int truncated;
  int redacted; /* secrets replaced by [REDACTED:kind] */
  char *data;
  size_t len;
  pal_reply reply_;
} pal_file;

pal_file pal_fs_read(const char *path, size_t max_bytes);
void pal_file_free(pal_file *f);

/* fs.list (capability fs.list): a walk of an absolute directory; 0 means the policy's default
 * depth and count. kind is "file", "dir" or "symlink". */
typedef struct {
  char *path;
  char *kind;
  double size;
} pal_entry;

typedef struct {
  pal_error *error;
  pal_entry *entries;
  size_t count;
  int truncated;
} pal_listing;

pal_listing pal_fs_list(const char *path, int max_depth, int max_entries);
void pal_listing_free(pal_listing *l);

/* model.generate (capability model.generate). Every option may stay zero: model NULL or
 * "auto" lets the host pick for category (NULL: the tool's own); temperature is sent only when
 * has_temperature is set. */
typedef struct {
  const char *model;
  const char *category;
  const char *system;
  const char *thinking_mode;
  double temperature;
  int has_temperature;
} pal_generate_opts;

typedef struct {
  pal_error *error;
  char *content;
  char *model;
  char *provider;
  char *finish_reason;
} pal_generation;

pal_generation pal_model_generate(const char *prompt, size_t prompt_len, const pal_generate_opts *opts);
void pal_generation_free(pal_generation *g);

/* ---- The ABI exports, as plain functions -----------------------------------------------
 * pal.c exports alloc, free, describe and handle to the host under __wasm__; these are the
 * same entry points for a native test host (fakehost.c). */
void *pal_alloc(size_t size);
void pal_free(void *p);
/* Runs one call: req is a buffer from pal_alloc (freed here). Returns the result message
 * (owned by the kit until the next call). */
const char *pal_handle(char *req, size_t n, size_t *out_n);

#ifndef __wasm__
/* Supplied by a native host (fakehost.c): perform one op and return the reply in a buffer
 * from pal_alloc (its length in *out_n), or NULL; and write a log line. */
void *pal_host_call(const void *req, size_t n, size_t *out_n);
void pal_host_log(int level, const char *msg, size_t n);
#endif

#ifdef __cplusplus
}
#endif
#endif
