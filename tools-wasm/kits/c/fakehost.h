/* fakehost.h: a fake pal host for testing a C tool natively, with no server and no wasm.
 *
 * Compile the tool's files and pal.c with fakehost.c for the machine you are on (cc, not
 * clang --target=wasm32): pal.c then calls pal_host_call and pal_host_log, which fakehost.c
 * answers from an in-memory file tree and a scripted model. Refusals use the real host's
 * codes and texts (docs/abi.md), so a test that passes here sees the same errors under pal:
 * the kit's pal_test.c checks each one against the real host's replies in
 * tools-wasm/testdata/refusals.json. Not simulated: a fractional number for an integer field,
 * the types of array elements, deny rules of more than one component, symlinks, the per-call
 * byte budget.
 *
 *   static const pal_fake_file files[] = {{"/w/a.c", "// TODO: x\n"}, {NULL, NULL}};
 *   static const char *const grant[] = {"fs.list", "fs.read", NULL};
 *   pal_fake_host host = {.files = files, .grant = grant};
 *   pal_fake_outcome o;
 *   pal_fake_call(&host, "todo_finder", "{\"path\":\"/w\"}", &o);
 *   // o.is_error, o.text, o.ops[i].op / .code / .request / .body, o.logs
 *   pal_fake_outcome_free(&o);
 *
 * Ops implemented: fs.read, fs.list, model.generate, model.resolve, progress, host.info. Any
 * other op of ABI 1 is answered unknown_op with a message saying the fake host lacks it. */
#ifndef PAL_FAKEHOST_H
#define PAL_FAKEHOST_H

#include <stddef.h>

#include "pal.h"

/* A file of the in-memory tree: an absolute path and its text. Directories are implied. */
typedef struct {
  const char *path;
  const char *data;
} pal_fake_file;

typedef struct {
  /* Files, ended by an entry whose path is NULL. */
  const pal_fake_file *files;
  /* What pal.toml grants the tool (intersected with its manifest's capabilities), NULL-ended. */
  const char *const *grant;
  /* Deny rules, NULL-ended (may be NULL): a glob ('*' any run, '?' one character) refuses a
   * path any of whose components it matches, ignoring case, as pal's deny rules do (".env*",
   * "*.pem"); an entry starting with '/' refuses that path and the tree under it. */
  const char *const *deny;
  /* The model's reply to a prompt, or NULL to fail with upstream. NULL model: "ok". */
  const char *(*model)(const char *prompt, size_t n, void *ctx);
  void *model_ctx;
  /* Allowed roots, NULL-ended: once there is one, a path outside every root is denied. NULL:
   * every absolute path is inside. */
  const char *const *roots;
  /* fs.read's per-file cap in bytes ([paths] max_file_bytes); 0 means 1,000,000. */
  size_t max_file_bytes;
} pal_fake_host;

/* One op the tool asked for: code "" when it was allowed. request is the op's JSON, body
 * its body (NUL-terminated, "" when none). */
typedef struct {
  char *op;
  char *code;
  char *request;
  char *body;
} pal_fake_op;

typedef struct {
  /* The result's text items joined, and its isError. */
  int is_error;
  char *text;
  /* The whole CallToolResult as JSON. */
  char *result;
  pal_fake_op *ops;
  size_t nops;
  /* The tool's log lines, each ended by '\n'. */
  char *logs;
} pal_fake_outcome;

/* Runs one call of tool with args (a JSON object) through pal_handle, as pal would. Returns
 * 0, or -1 when the tool is not in the manifest or the result is not a CallToolResult (out
 * then holds what there was). */
int pal_fake_call(const pal_fake_host *h, const char *tool, const char *args_json, pal_fake_outcome *out);
void pal_fake_outcome_free(pal_fake_outcome *o);
/* The first op named op in o, or NULL. */
const pal_fake_op *pal_fake_find_op(const pal_fake_outcome *o, const char *op);

#endif
