/* Tests todo_finder under the kit's fake host, natively, with no pal server: `make test`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakehost.h"
#include "pal.h"

static int failures;

#define CHECK(cond, ...)                                          \
  do {                                                            \
    if (!(cond)) {                                                \
      fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond);  \
      fprintf(stderr, __VA_ARGS__);                               \
      fputc('\n', stderr);                                        \
      failures++;                                                 \
    }                                                             \
  } while (0)

static const pal_fake_file files[] = {
    {"/w/src/a.ts", "let x = 1;\n// TODO: handle the empty case\n"},
    {"/w/src/b.go", "package b\n// FIXME: leaks a file handle\n"},
    {"/w/README.md", "nothing to do here\n"},
    {"/w/.env", "SECRET=1 // TODO never read\n"},
    {NULL, NULL},
};
static const char *const deny[] = {"/w/.env", NULL};
static const char *const all[] = {"fs.list", "fs.read", "model.generate", "progress", NULL};
static const char *const no_model[] = {"fs.list", "fs.read", NULL};
static const char *const nothing[] = {NULL};

static char prompt[4096];

static const char *model(const char *p, size_t n, void *ctx) {
  (void)ctx;
  snprintf(prompt, sizeof prompt, "%.*s", (int)n, p);
  return "two items";
}

static void test_manifest(void) {
  size_t n;
  const char *m = pal_manifest(&n);
  pal_json t = {0};
  CHECK(pal_json_next(pal_json_get(pal_json_parse(m, n), "tools"), &t), "no tool in %s", m);
  char *name = pal_json_str(pal_json_get(t, "name"));
  CHECK(name && strcmp(name, "todo_finder") == 0, "name %s", name ? name : "(none)");
  free(name);
  pal_json caps = pal_json_get(t, "capabilities");
  CHECK(caps.n == strlen("[\"fs.list\",\"fs.read\",\"model.generate\",\"progress\"]") &&
            memcmp(caps.p, "[\"fs.list\",\"fs.read\",\"model.generate\",\"progress\"]", caps.n) == 0,
        "capabilities %.*s", (int)caps.n, caps.p);
  CHECK(strstr(m, "\"abi\":1,") == m + 1, "manifest %s", m);
  CHECK(strstr(m, "\"annotations\":{\"readOnlyHint\":true,\"destructiveHint\":false,\"idempotentHint\":false}"), "%s", m);
  CHECK(strstr(m, "\"category\":\"fast\",\"requiresModel\":true}"), "%s", m);
}

static void test_finds_todos(void) {
  pal_fake_host h = {.files = files, .grant = all, .deny = deny, .model = model};
  pal_fake_outcome o;
  prompt[0] = 0;
  CHECK(pal_fake_call(&h, "todo_finder", "{\"path\":\"/w\",\"model\":\"m1\"}", &o) == 0, "%s", o.result);
  CHECK(!o.is_error, "%s", o.text);
  CHECK(strstr(o.text, "Read 3 files, skipped 0, found 2 TODO lines."), "%s", o.text);
  CHECK(strstr(o.text, "Summary (m1):\ntwo items"), "%s", o.text);
  CHECK(strstr(prompt, "/w/src/a.ts:2: // TODO: handle the empty case\n"), "prompt %s", prompt);
  CHECK(strstr(prompt, "/w/src/b.go:2: // FIXME: leaks a file handle\n"), "prompt %s", prompt);
  CHECK(!strstr(prompt, "SECRET"), "prompt %s", prompt);
  CHECK(strstr(o.result, "\"structuredContent\":{\"files_read\":3,\"files_skipped\":0,\"todos\":[\"/w/src/a.ts:2: // TODO: handle the empty case\","),
        "%s", o.result);
  const pal_fake_op *g = pal_fake_find_op(&o, "model.generate");
  CHECK(g && strcmp(g->code, "") == 0 && strstr(g->request, "\"model\":\"m1\""), "model.generate %s", g ? g->request : "missing");
  CHECK(pal_fake_find_op(&o, "progress") != NULL, "no progress");
  pal_fake_outcome_free(&o);
}

static void test_not_granted(void) {
  pal_fake_host h = {.files = files, .grant = no_model, .deny = deny, .model = model};
  pal_fake_outcome o;
  CHECK(pal_fake_call(&h, "todo_finder", "{\"path\":\"/w\"}", &o) == 0, "%s", o.result);
  CHECK(o.is_error, "%s", o.text);
  CHECK(strstr(o.text, "model.generate refused: not_granted: tool \"todo_finder\" has no \"model.generate\" capability in this call (granted: {fs.read,fs.list})"),
        "%s", o.text);
  const pal_fake_op *g = pal_fake_find_op(&o, "model.generate");
  CHECK(g && strcmp(g->code, "not_granted") == 0, "model.generate op %s", g ? g->code : "missing");
  /* progress is declared but not granted: refused, and the tool goes on. */
  const pal_fake_op *p = pal_fake_find_op(&o, "progress");
  CHECK(p && strcmp(p->code, "not_granted") == 0, "progress op %s", p ? p->code : "missing");
  pal_fake_outcome_free(&o);
}

static void test_list_refused(void) {
  pal_fake_host h = {.files = files, .grant = nothing};
  pal_fake_outcome o;
  CHECK(pal_fake_call(&h, "todo_finder", "{\"path\":\"/w\"}", &o) == 0, "%s", o.result);
  CHECK(o.is_error && strstr(o.text, "fs.list /w refused: not_granted: tool \"todo_finder\" has no \"fs.list\" capability in this call (granted: {})"),
        "%s", o.text);
  pal_fake_outcome_free(&o);
}

static void test_denied_file_skipped(void) {
  static const char *const deny_b[] = {"/w/.env", "/w/src/b.go", NULL};
  pal_fake_host h = {.files = files, .grant = all, .deny = deny_b, .model = model};
  pal_fake_outcome o;
  CHECK(pal_fake_call(&h, "todo_finder", "{\"path\":\"/w\"}", &o) == 0, "%s", o.result);
  /* fs.list leaves denied entries out, so b.go is neither listed nor read. */
  CHECK(strstr(o.text, "Read 2 files, skipped 0, found 1 TODO lines."), "%s", o.text);
  CHECK(strstr(o.text, "Summary (fake-model)"), "%s", o.text);
  pal_fake_outcome_free(&o);
}

static void test_unknown_tool(void) {
  size_t n;
  char *req = pal_alloc(64);
  const char *in = "{\"abi\":1,\"tool\":\"nope\",\"call_id\":\"c\",\"arguments\":{}}";
  memcpy(req, in, strlen(in));
  const char *out = pal_handle(req, strlen(in), &n);
  CHECK(strstr(out, "this module has no tool named \\\"nope\\\"") && strstr(out, "\"isError\":true"), "%s", out);
}

int main(void) {
  test_manifest();
  test_finds_todos();
  test_not_granted();
  test_list_refused();
  test_denied_file_skipped();
  test_unknown_tool();
  if (failures) {
    fprintf(stderr, "FAIL: %d checks\n", failures);
    return 1;
  }
  printf("ok: todo_finder under the fake host\n");
  return 0;
}
