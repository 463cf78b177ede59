/* Tests of the kit itself (JSON reader and writer, framing, errors, the fake host's refusals
 * against the real host's), natively under the fake host: `make test` in this directory.
 * Built with AddressSanitizer, so a read outside a span fails the test. */
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

/* A tool that echoes what the kit lets it see, to test framing through pal_handle. */
static pal_result *echo(const pal_call *call) {
  pal_result *r = pal_result_new(0);
  char *s = pal_json_strdef(pal_json_get(call->args, "s"));
  pal_buf_puts(&r->text, call->tool);
  pal_buf_puts(&r->text, "|");
  pal_buf_puts(&r->text, call->call_id);
  pal_buf_puts(&r->text, "|");
  pal_buf_puts(&r->text, s);
  free(s);
  if (pal_json_bool(pal_json_get(call->args, "read"))) {
    pal_file f = pal_fs_read("/w/bin", 0);
    pal_buf_puts(&r->text, "|");
    if (f.error) {
      pal_buf_puts(&r->text, f.error->code);
    } else {
      pal_buf_int(&r->text, (long long)f.len);
      pal_buf_puts(&r->text, f.data[f.len] == 0 ? "|nul" : "|no-nul");
    }
    pal_file_free(&f);
  }
  if (pal_json_bool(pal_json_get(call->args, "bad_structured"))) pal_buf_puts(&r->structured, "[1,2");
  return r;
}

static const char *const echo_caps[] = {PAL_CAP_FS_READ, NULL};
static const pal_tool echo_tool = {.name = "echo", .description = "echo", .capabilities = echo_caps, .handler = echo};

static int in_call;
static pal_result *unknown_op(const pal_call *call) {
  (void)call;
  in_call = 1;
  pal_reply r = pal_request("{\"op\":\"fs.write\"}", 17, NULL, 0);
  pal_result *res = pal_text(r.error ? r.error->message : "allowed");
  pal_reply_free(&r);
  return res;
}
static const pal_tool unknown_tool = {.name = "unknown", .description = "", .handler = unknown_op};

/* The real host's refusals (tools-wasm/testdata/refusals.json, written from its replies by
 * TestFakeAndRealHostRefuseAlike): the probe tool sends each request, and the fake host must
 * answer it with the same code and message. */
#define REFUSALS "../../testdata/refusals.json"
static pal_json refusals; /* the table */
static int refusal_cases;

static pal_result *probe(const pal_call *call) {
  (void)call;
  pal_json c = {0};
  while (pal_json_next(pal_json_get(refusals, "cases"), &c)) {
    char *name = pal_json_strdef(pal_json_get(c, "name")), *req = pal_json_strdef(pal_json_get(c, "request"));
    char *body = pal_json_str(pal_json_get(c, "body"));
    char *code = pal_json_strdef(pal_json_get(c, "code")), *msg = pal_json_strdef(pal_json_get(c, "message"));
    pal_reply r = pal_request(req, strlen(req), body, body ? strlen(body) : 0);
    CHECK(r.error && strcmp(r.error->code, code) == 0 && strcmp(r.error->message, msg) == 0, "%s: got %s: %s, want %s: %s", name,
          r.error ? r.error->code : "no error", r.error ? r.error->message : "", code, msg);
    refusal_cases++;
    pal_reply_free(&r);
    free(name), free(req), free(body), free(code), free(msg);
  }
  return pal_text("done");
}
static const char *const all_caps[] = {PAL_CAP_FS_READ,   PAL_CAP_FS_LIST,   PAL_CAP_MODEL_GENERATE, PAL_CAP_MODEL_LIST,
                                       PAL_CAP_THREAD_READ, PAL_CAP_THREAD_WRITE, PAL_CAP_PROGRESS,   PAL_CAP_HOST_INFO,
                                       PAL_CAP_GIT_READ,  PAL_CAP_CLI_RUN,   NULL};
static const pal_tool probe_tool = {.name = "probe", .description = "", .capabilities = all_caps, .handler = probe};

void pal_init(void) {
  pal_module("kit-test", "1.0.0");
  pal_register(&echo_tool);
  pal_register(&unknown_tool);
  pal_register(&probe_tool);
}

static pal_json parse(const char *s) { return pal_json_parse(s, strlen(s)); }

static void test_parse(void) {
  const char *good[] = {"{}", " [ ] ", "0", "-0.5e+3", "\"a\\u00e9\\n\"", "true", "null",
                        "{\"a\":[1,{\"b\":null}],\"c\":\"\\ud83d\\ude00\"}"};
  const char *bad[] = {"",       "{",       "{\"a\"}",    "{\"a\":1,}", "[1,]",    "01",   "1.",
                       "\"\\x\"", "\"a",     "tru",        "{} {}",      "\"\x01\"", "-",    "[1 2]",
                       "{1:2}",   "\"\\u12\"", "nul",      "1e",         "+1",       "[\"a\" \"b\"]"};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++)
    CHECK(pal_json_type(parse(good[i])) != PAL_JSON_NONE, "%s should parse", good[i]);
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    CHECK(pal_json_type(parse(bad[i])) == PAL_JSON_NONE, "%s should not parse", bad[i]);

  char deep[200];
  memset(deep, '[', 100);
  memset(deep + 100, ']', 100);
  CHECK(pal_json_parse(deep, 200).n == 0, "nesting 100 deep should be refused");
  CHECK(pal_json_parse(deep + 40, 120).n == 120, "nesting 60 deep should parse");
}

static void test_access(void) {
  pal_json v = parse("{\"a\":1.5,\"s\":\"x\\\"y\\u00e9\\ud83d\\ude00\\ud800z\",\"b\":true,\"n\":null,"
                     "\"arr\":[ 1 , \"two\" , {\"k\":3} ],\"a\\u0062\":\"escaped key\",\"a\":2}");
  CHECK(pal_json_type(v) == PAL_JSON_OBJECT, "object");
  CHECK(pal_json_num(pal_json_get(v, "a"), 0) == 1.5, "first a wins");
  char *s = pal_json_str(pal_json_get(v, "s"));
  CHECK(s && strcmp(s, "x\"y\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbdz") == 0, "decoded %s", s);
  free(s);
  CHECK(pal_json_bool(pal_json_get(v, "b")) == 1, "true");
  CHECK(pal_json_type(pal_json_get(v, "n")) == PAL_JSON_NULL, "null");
  CHECK(pal_json_str(pal_json_get(v, "n")) == NULL, "null is not a string");
  CHECK(pal_json_get(v, "missing").n == 0, "missing");
  char *ek = pal_json_str(pal_json_get(v, "ab"));
  CHECK(ek && strcmp(ek, "escaped key") == 0, "escaped key %s", ek ? ek : "(none)");
  free(ek);
  pal_json arr = pal_json_get(v, "arr"), it = {0};
  int n = 0;
  while (pal_json_next(arr, &it)) n++;
  CHECK(n == 3, "array of %d", n);
  it.p = NULL;
  pal_json_next(arr, &it);
  pal_json_next(arr, &it);
  pal_json_next(arr, &it);
  CHECK(pal_json_num(pal_json_get(it, "k"), 0) == 3, "third element");
  CHECK(pal_json_num(parse("-12.25e2"), 0) == -1225, "number");
  CHECK(pal_json_num(parse("\"1\""), 7) == 7, "a string is not a number");
  pal_json nothing = {0};
  CHECK(!pal_json_next(nothing, &it) && pal_json_get(nothing, "a").n == 0, "absent values");
}

static void test_write(void) {
  pal_buf b = {0};
  pal_buf_puts(&b, "{");
  pal_json_kstr(&b, "s", "q\"b\\n\n\x01\x7f");
  pal_json_knum(&b, "i", -42);
  pal_json_knum(&b, "f", 0.25);
  pal_json_knum(&b, "big", 1e20);
  pal_json_kbool(&b, "t", 1);
  pal_json_key(&b, "a");
  pal_buf_puts(&b, "[");
  pal_json_sep(&b);
  pal_buf_int(&b, 1);
  pal_json_sep(&b);
  pal_buf_int(&b, 2);
  pal_buf_puts(&b, "]}");
  const char *want = "{\"s\":\"q\\\"b\\\\n\\n\\u0001\x7f\",\"i\":-42,\"f\":0.25,\"big\":100000000000000e6,\"t\":true,\"a\":[1,2]}";
  CHECK(b.p && strcmp(b.p, want) == 0, "got  %s\nwant %s", b.p, want);
  CHECK(pal_json_type(pal_json_parse(b.p, b.len)) == PAL_JSON_OBJECT, "writer output parses");
  pal_buf_free(&b);

  /* Invalid UTF-8 becomes U+FFFD; valid multi-byte sequences pass. */
  pal_buf_quote(&b, "a\xff\xc3\xa9\xe2\x82", 6);
  CHECK(strcmp(b.p, "\"a\xef\xbf\xbd\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\"") == 0, "got %s", b.p);
  pal_buf_free(&b);
  const struct {
    double v;
    const char *want;
  } nums[] = {{0, "0"}, {-0.5, "-0.5"}, {1.5e-9, "1.5e-9"}, {2e-5, "2e-5"}, {0.000123, "0.000123"},
              {1e15, "100000000000000e1"}, {123456789.25, "123456789.25"}, {-3, "-3"}};
  for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
    pal_buf_num(&b, nums[i].v);
    CHECK(strcmp(b.p, nums[i].want) == 0, "%g written as %s, want %s", nums[i].v, b.p, nums[i].want);
    double back = pal_json_num(pal_json_parse(b.p, b.len), 99), d = back - nums[i].v, m = nums[i].v;
    CHECK((d < 0 ? -d : d) <= 1e-9 * (m < 0 ? -m : m), "%s reads back as %g", b.p, back);
    pal_buf_free(&b);
  }
  pal_buf_num(&b, 1.0 / 0.0);
  CHECK(strcmp(b.p, "0") == 0, "infinity as %s", b.p);
  pal_buf_free(&b);
}

/* Every prefix of a valid document, and every one-byte change of it, is read without
 * reading outside the span (AddressSanitizer watches; each copy is exactly its length). */
static void test_hostile(void) {
  const char *doc = "{\"a\":[1,\"x\\u00e9\",{\"b\":[true,false,null]}],\"c\":-1.5e3,\"d\":\"\\ud83d\\ude00\"}";
  size_t n = strlen(doc);
  const char subst[] = "{}[]\",:\\u0e- ";
  for (size_t i = 0; i <= n; i++) {
    for (size_t k = 0; k <= sizeof subst - 1; k++) {
      char *c = malloc(n);
      memcpy(c, doc, n);
      size_t len = n;
      if (k == sizeof subst - 1) len = i; /* a prefix */
      else if (i < n) c[i] = subst[k];
      pal_json v = {c, len}; /* unchecked: the accessors must stay inside it anyway */
      pal_json it = {0};
      free(pal_json_str(pal_json_get(v, "a")));
      while (pal_json_next(pal_json_get(v, "a"), &it)) free(pal_json_str(it));
      (void)pal_json_num(pal_json_get(v, "c"), 0);
      free(pal_json_str(pal_json_get(v, "d")));
      (void)pal_json_parse(c, len);
      free(c);
    }
  }
}

/* Random mutations (fixed seed, so a failure repeats) of a few documents: inserted, replaced
 * and deleted bytes, every accessor run on each, under AddressSanitizer. */
static void test_mutations(void) {
  const char *docs[] = {
      "{\"path\":\"/w\",\"entries\":[{\"path\":\"/w/a\",\"kind\":\"file\",\"size\":10}],\"truncated\":false}",
      "{\"error\":{\"code\":\"denied\",\"message\":\"tool \\\"x\\\" has no \\u0022fs.read\\u0022\"}}",
      "[[[[\"\\ud83d\\ude00\"]]],-1.5e-3,true,null,{\"\":{}}]",
  };
  const char alphabet[] = "{}[]\",:\\u0123456789abcdefEe.-+ tfnrl\x00\x80\xff";
  unsigned long long x = 0x9E3779B97F4A7C15ULL;
  for (int round = 0; round < 30000; round++) {
    const char *doc = docs[round % 3];
    size_t n = strlen(doc);
    char *c = malloc(n + 8);
    memcpy(c, doc, n);
    for (int k = 0; k < 1 + round % 4; k++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      size_t at = (size_t)(x % (n + 1));
      char ch = alphabet[(x >> 32) % (sizeof alphabet - 1)];
      switch ((x >> 48) % 3) {
        case 0: if (at < n) c[at] = ch; break;
        case 1: if (n < strlen(doc) + 4) memmove(c + at + 1, c + at, n - at), c[at] = ch, n++; break;
        case 2: if (at < n) memmove(c + at, c + at + 1, n - at - 1), n--; break;
      }
    }
    char *exact = malloc(n ? n : 1); /* exactly n bytes, so ASan sees a read past the end */
    memcpy(exact, c, n);
    free(c);
    pal_json v = {exact, n}, it = {0};
    pal_json p = pal_json_parse(exact, n);
    free(pal_json_str(pal_json_get(v, "path")));
    while (pal_json_next(pal_json_get(v, "entries"), &it)) free(pal_json_str(pal_json_get(it, "kind")));
    free(pal_json_str(pal_json_get(pal_json_get(p, "error"), "message")));
    it.p = NULL;
    while (pal_json_next(v, &it)) (void)pal_json_num(it, 0), free(pal_json_str(it));
    free(exact);
  }
}

static void test_framing(void) {
  static const pal_fake_file files[] = {{"/w/bin", "abc"}, {NULL, NULL}};
  static const char *const grant[] = {"fs.read", NULL};
  pal_fake_host h = {.files = files, .grant = grant};
  pal_fake_outcome o;
  CHECK(pal_fake_call(&h, "echo", "{\"s\":\"h\\u00e9\",\"read\":true}", &o) == 0, "%s", o.result);
  CHECK(strcmp(o.text, "echo|c1|h\xc3\xa9|3|nul") == 0, "got %s", o.text);
  CHECK(strstr(o.result, "\"isError\":false") && !strstr(o.result, "structuredContent"), "%s", o.result);
  pal_fake_outcome_free(&o);

  pal_fake_host none = {.files = files};
  CHECK(pal_fake_call(&none, "echo", "{\"read\":true}", &o) == 0, "%s", o.result);
  CHECK(strcmp(o.text, "echo|c1||not_granted") == 0, "got %s", o.text);
  CHECK(o.nops == 1 && strstr(o.ops[0].request, "\"op\":\"fs.read\""), "ops %zu", o.nops);
  pal_fake_outcome_free(&o);

  CHECK(pal_fake_call(&h, "echo", "{\"bad_structured\":true}", &o) == 0, "%s", o.result);
  CHECK(!strstr(o.result, "structuredContent") && strstr(o.logs, "not a JSON object"), "%s / %s", o.result, o.logs);
  pal_fake_outcome_free(&o);

  /* Arguments that are not an object reach the handler as absent. */
  CHECK(pal_fake_call(&h, "echo", "[\"s\"]", &o) == 0, "%s", o.result);
  CHECK(strcmp(o.text, "echo|c1|") == 0, "got %s", o.text);
  pal_fake_outcome_free(&o);

  CHECK(pal_fake_call(&h, "missing", "{}", &o) == -1, "a tool not in the manifest");
  pal_fake_outcome_free(&o);

  size_t rn;
  char *req = pal_alloc(3);
  memcpy(req, "{]x", 3);
  const char *res = pal_handle(req, 3, &rn);
  CHECK(strstr(res, "not a JSON object") && strstr(res, "\"isError\":true"), "%s", res);
}

static void test_errors(void) {
  pal_error *e = NULL;
  CHECK(!pal_error_is(e, PAL_ERR_DENIED), "NULL is no error");
  char *s = pal_error_string(e);
  CHECK(s && *s == 0, "empty string for NULL");
  free(s);
}

static void test_unknown_op(void) {
  pal_fake_host h = {0};
  pal_fake_outcome o;
  CHECK(pal_fake_call(&h, "unknown", "{}", &o) == 0 && in_call, "%s", o.result);
  CHECK(strcmp(o.text, "unknown op \"fs.write\" in ABI 1") == 0, "got %s", o.text);
  pal_fake_outcome_free(&o);
}

/* strs decodes a JSON array of strings into a NULL-ended array (malloc'ed, as its strings). */
static char **strs(pal_json arr) {
  size_t n = 0;
  pal_json it = {0};
  while (pal_json_next(arr, &it)) n++;
  char **out = calloc(n + 1, sizeof *out);
  it.p = NULL;
  for (size_t i = 0; out && pal_json_next(arr, &it); i++) out[i] = pal_json_strdef(it);
  return out;
}

static void free_strs(char **s) {
  for (char **p = s; p && *p; p++) free(*p);
  free(s);
}

static void test_refusals(void) {
  FILE *f = fopen(REFUSALS, "rb");
  CHECK(f != NULL, "%s: cannot open (run the test from tools-wasm/kits/c)", REFUSALS);
  if (!f) return;
  static char text[1 << 16];
  size_t n = fread(text, 1, sizeof text, f);
  fclose(f);
  CHECK(n < sizeof text, "%s is larger than %zu bytes", REFUSALS, sizeof text);
  refusals = pal_json_parse(text, n);
  CHECK(pal_json_type(refusals) == PAL_JSON_OBJECT, "%s is not a JSON object", REFUSALS);
  char *tool = pal_json_strdef(pal_json_get(refusals, "tool"));
  CHECK(strcmp(tool, "probe") == 0, "the table's tool is %s, not probe", tool);
  free(tool);
  char **grant = strs(pal_json_get(refusals, "grant")), **roots = strs(pal_json_get(refusals, "roots"));
  char **deny = strs(pal_json_get(refusals, "deny"));
  pal_json files = pal_json_get(refusals, "files"), it = {0};
  size_t nf = 0;
  while (pal_json_next(files, &it)) nf++;
  pal_fake_file *tree = calloc(nf + 1, sizeof *tree);
  it.p = NULL;
  for (size_t i = 0; tree && pal_json_next(files, &it); i++) {
    tree[i].path = pal_json_strdef(pal_json_get(it, "path"));
    tree[i].data = pal_json_strdef(pal_json_get(it, "content"));
  }
  pal_fake_host h = {.files = tree, .grant = (const char *const *)grant, .deny = (const char *const *)deny,
                     .roots = (const char *const *)roots,
                     .max_file_bytes = (size_t)pal_json_num(pal_json_get(refusals, "max_file_bytes"), 0)};
  pal_fake_outcome o;
  CHECK(pal_fake_call(&h, "probe", "{}", &o) == 0 && strcmp(o.text, "done") == 0, "%s", o.result);
  CHECK(refusal_cases >= 20, "%d cases in %s", refusal_cases, REFUSALS);
  pal_fake_outcome_free(&o);
  for (size_t i = 0; tree && i < nf; i++) free((char *)tree[i].path), free((char *)tree[i].data);
  free(tree);
  free_strs(grant), free_strs(roots), free_strs(deny);
}

static void test_members(void) {
  pal_json obj = parse("{\"a\":1, \"b\" : [2,3] ,\"c\":{}}"), k = {0}, v = {0};
  pal_buf got = {0};
  while (pal_json_next_member(obj, &k, &v)) {
    pal_buf_put(&got, k.p, k.n);
    pal_buf_puts(&got, "=");
    pal_buf_put(&got, v.p, v.n);
    pal_buf_puts(&got, ";");
  }
  CHECK(got.p && strcmp(got.p, "\"a\"=1;\"b\"=[2,3];\"c\"={};") == 0, "got %s", got.p ? got.p : "nothing");
  pal_buf_free(&got);
  pal_json none = {0};
  k.p = v.p = NULL;
  CHECK(!pal_json_next_member(pal_json_parse("[1]", 3), &k, &v) && !pal_json_next_member(none, &k, &v), "members of a non-object");
  k.p = v.p = NULL;
  CHECK(!pal_json_next_member(pal_json_parse("{}", 2), &k, &v), "members of {}");
}

int main(void) {
  test_parse();
  test_access();
  test_write();
  test_hostile();
  test_mutations();
  test_framing();
  test_unknown_op();
  test_errors();
  test_members();
  test_refusals();
  if (failures) {
    fprintf(stderr, "FAIL: %d checks\n", failures);
    return 1;
  }
  printf("ok: pal C kit\n");
  return 0;
}
