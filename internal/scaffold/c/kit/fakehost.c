/* fakehost.c: the fake pal host of fakehost.h. Native builds only. */
#include "fakehost.h"

#include <stdlib.h>
#include <string.h>

#ifdef __wasm__
#error "fakehost.c is for native test builds; build the module with pal.c alone"
#endif

/* Every capability of ABI 1, in the host's order (the order of "granted: {…}"). */
static const char *const known_caps[] = {"fs.read", "fs.list", "model.generate", "model.list", "thread.read",
                                         "thread.write", "progress", "host.info", "git.read", "cli.run", NULL};

/* Every op of ABI 1 and the capability it needs. */
static const char *const op_caps[][2] = {
    {"fs.read", "fs.read"},         {"fs.list", "fs.list"},         {"model.resolve", "model.generate"},
    {"model.generate", "model.generate"}, {"model.list", "model.list"}, {"thread.create", "thread.write"},
    {"thread.read", "thread.read"}, {"thread.append", "thread.write"}, {"progress", "progress"},
    {"host.info", "host.info"},     {"git.status", "git.read"},     {"git.diff", "git.read"},
    {"git.log", "git.read"},        {"cli.list", "cli.run"},        {"cli.run", "cli.run"},
};

/* The request fields of each implemented op and their types as pal's Go structs name them
 * (runtime/abi/ops.go); the first entry of a row is the op. */
static const char *const op_fields[][9] = {
    {"fs.read", "op", "string", "path", "string", "max_bytes", "int64", NULL},
    {"fs.list", "op", "string", "path", "string", "max_depth", "int", "max_entries", "int"},
    {"model.resolve", "op", "string", "model", "string", "category", "string", NULL},
    {"progress", "op", "string", "progress", "float64", "total", "float64", "message", "string"},
    {"host.info", "op", "string", NULL},
};
static const char *const generate_fields[] = {"op", "string", "model", "string", "category", "string", "system", "string",
                                              "temperature", "float64", "thinking_mode", "string", "images", "[]string", NULL};

/* The call in progress: pal_host_call and pal_host_log serve it. */
static struct {
  const pal_fake_host *h;
  const char *tool;
  const char *grant[16];
  pal_fake_outcome *out;
} cur;

static char *dupn(const char *s, size_t n) {
  char *d = malloc(n + 1);
  if (!d) abort();
  memcpy(d, s, n);
  d[n] = 0;
  return d;
}

static char *dup(const char *s) { return dupn(s, strlen(s)); }

static int in(const char *const *list, const char *s) {
  for (; list && *list; list++)
    if (strcmp(*list, s) == 0) return 1;
  return 0;
}

static void record(const char *op, const char *code, const char *head, size_t hn, const char *body, size_t bn) {
  pal_fake_outcome *o = cur.out;
  pal_fake_op *ops = realloc(o->ops, (o->nops + 1) * sizeof *ops);
  if (!ops) abort();
  o->ops = ops;
  pal_fake_op *r = &ops[o->nops++];
  r->op = dup(op);
  r->code = dup(code);
  r->request = dupn(head, hn);
  r->body = body ? dupn(body, bn) : dup("");
}

/* place copies the reply (head, then 0x00 and body when body is not NULL) into a buffer from
 * the guest's pal_alloc, as the host does. */
static void *place(pal_buf *head, const char *body, size_t bn, size_t *out_n) {
  size_t n = head->len + (body ? 1 + bn : 0);
  char *p = pal_alloc(n);
  if (!p) return NULL;
  memcpy(p, head->p, head->len);
  if (body) {
    p[head->len] = 0;
    memcpy(p + head->len + 1, body, bn);
  }
  *out_n = n;
  pal_buf_free(head);
  return p;
}

struct req {
  const char *head;
  size_t hn;
  const char *body;
  size_t bn;
  char *op;
};

static void *refuse(struct req *q, const char *code, const char *msg, size_t *out_n) {
  record(q->op, code, q->head, q->hn, q->body, q->bn);
  pal_buf b = {0};
  pal_buf_puts(&b, "{\"error\":{");
  pal_json_kstr(&b, "code", code);
  pal_json_kstr(&b, "message", msg);
  pal_buf_puts(&b, "}}");
  return place(&b, NULL, 0, out_n);
}

/* ok answers with result (a JSON object's text) and an optional body. */
static void *ok(struct req *q, pal_buf *result, const char *body, size_t bn, size_t *out_n) {
  record(q->op, "", q->head, q->hn, q->body, q->bn);
  pal_buf b = {0};
  pal_buf_puts(&b, "{\"result\":");
  pal_buf_put(&b, result->p, result->len);
  pal_buf_puts(&b, "}");
  pal_buf_free(result);
  return place(&b, body, bn, out_n);
}

/* The fields of an implemented op as name, type pairs ended by NULL, or NULL for an op the
 * fake host does not implement. */
static const char *const *fields_of(const char *op) {
  if (strcmp(op, "model.generate") == 0) return generate_fields;
  for (size_t i = 0; i < sizeof op_fields / sizeof op_fields[0]; i++)
    if (strcmp(op_fields[i][0], op) == 0) return &op_fields[i][1];
  return NULL;
}

/* bad_request decodes a request header as pal does (encoding/json, unknown fields
 * disallowed): the first member, in order, with an unknown name or a value of the wrong kind
 * is the error, worded as runtime/abi's RefuseBadRequest words it; null fits any field.
 * Returns 0 and fills msg, or 1 when the header is good. */
static int bad_request(pal_json head, const char *const *fields, pal_buf *msg) {
  static const char *const kinds[] = {"", "null", "bool", "number", "string", "array", "object"};
  pal_json k = {0}, v = {0};
  while (pal_json_next_member(head, &k, &v)) {
    char *name = pal_json_strdef(k);
    const char *type = NULL;
    for (const char *const *f = fields; *f; f += 2)
      if (strcmp(f[0], name) == 0) type = f[1];
    pal_json_kind kind = pal_json_type(v);
    int fits = kind == PAL_JSON_NULL || (type && (strcmp(type, "string") == 0   ? kind == PAL_JSON_STRING
                                                  : strcmp(type, "[]string") == 0 ? kind == PAL_JSON_ARRAY
                                                                                  : kind == PAL_JSON_NUMBER));
    if (!type || !fits) {
      pal_buf_puts(msg, type ? "bad request: field " : "bad request: json: unknown field ");
      pal_buf_quote(msg, name, strlen(name));
      if (type) {
        pal_buf_puts(msg, " must be ");
        pal_buf_puts(msg, type);
        pal_buf_puts(msg, ", not ");
        pal_buf_puts(msg, kinds[kind]);
      }
      free(name);
      return 0;
    }
    free(name);
  }
  return 1;
}

/* clean returns an absolute path cleaned as Go's path.Clean cleans it (malloc'ed): no ".",
 * ".." or empty components. */
static char *clean(const char *path) {
  size_t n = strlen(path);
  char *out = malloc(n + 2);
  if (!out) abort();
  size_t o = 0;
  for (const char *p = path; *p;) {
    while (*p == '/') p++;
    const char *c = p;
    while (*p && *p != '/') p++;
    size_t cn = (size_t)(p - c);
    if (cn == 0 || (cn == 1 && c[0] == '.')) continue;
    if (cn == 2 && c[0] == '.' && c[1] == '.') {
      while (o > 0 && out[o - 1] != '/') o--;
      if (o > 0) o--;
      continue;
    }
    out[o++] = '/';
    memcpy(out + o, c, cn);
    o += cn;
  }
  if (o == 0) out[o++] = '/';
  out[o] = 0;
  return out;
}

/* under reports whether path is dir or inside it. */
static int under(const char *path, const char *dir) {
  size_t n = strlen(dir);
  while (n && dir[n - 1] == '/') n--;
  return strncmp(path, dir, n) == 0 && (path[n] == 0 || path[n] == '/');
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* glob matches name[0:n] against pattern ('*' any run, '?' one character), ignoring case. */
static int glob(const char *pat, const char *name, size_t n) {
  if (!*pat) return n == 0;
  if (*pat == '*') {
    for (size_t i = 0; i <= n; i++)
      if (glob(pat + 1, name + i, n - i)) return 1;
    return 0;
  }
  return n > 0 && (*pat == '?' || lower(*pat) == lower(*name)) && glob(pat + 1, name + 1, n - 1);
}

/* deny_rule returns the deny entry that refuses a clean path, or NULL. */
static const char *deny_rule(const char *path) {
  for (const char *const *d = cur.h->deny; d && *d; d++) {
    if (**d == '/') {
      if (under(path, *d)) return *d;
      continue;
    }
    for (const char *p = path; *p;) {
      while (*p == '/') p++;
      const char *c = p;
      while (*p && *p != '/') p++;
      if (p > c && glob(*d, c, (size_t)(p - c))) return *d;
    }
  }
  return NULL;
}

static int is_dir(const char *path) {
  size_t n = strlen(path);
  for (const pal_fake_file *f = cur.h->files; f && f->path; f++)
    if (strncmp(f->path, path, n) == 0 && (f->path[n] == '/' || (n && path[n - 1] == '/'))) return 1;
  return 0;
}

static int by_path(const void *a, const void *b) {
  return strcmp((*(const pal_fake_file *const *)a)->path, (*(const pal_fake_file *const *)b)->path);
}

static void *serve(struct req *q, pal_json head, size_t *out_n) {
  const char *cap = NULL;
  for (size_t i = 0; i < sizeof op_caps / sizeof op_caps[0]; i++)
    if (strcmp(op_caps[i][0], q->op) == 0) cap = op_caps[i][1];
  if (!cap) {
    pal_buf b = {0};
    pal_buf_puts(&b, "unknown op ");
    pal_buf_quote(&b, q->op, strlen(q->op));
    pal_buf_puts(&b, " in ABI 1");
    void *r = refuse(q, PAL_ERR_UNKNOWN_OP, b.p, out_n);
    pal_buf_free(&b);
    return r;
  }
  if (!in(cur.grant, cap)) {
    pal_buf b = {0}, g = {0};
    for (const char *const *c = cur.grant; *c; c++) {
      if (g.len) pal_buf_puts(&g, ",");
      pal_buf_puts(&g, *c);
    }
    pal_buf_puts(&b, "tool \"");
    pal_buf_puts(&b, cur.tool);
    pal_buf_puts(&b, "\" has no \"");
    pal_buf_puts(&b, cap);
    pal_buf_puts(&b, "\" capability in this call (granted: {");
    pal_buf_puts(&b, g.p ? g.p : "");
    pal_buf_puts(&b, "})");
    void *r = refuse(q, PAL_ERR_NOT_GRANTED, b.p, out_n);
    pal_buf_free(&b);
    pal_buf_free(&g);
    return r;
  }
  if (q->body && strcmp(q->op, "model.generate") != 0 && strcmp(q->op, "cli.run") != 0) {
    pal_buf b = {0};
    pal_buf_puts(&b, "op ");
    pal_buf_quote(&b, q->op, strlen(q->op));
    pal_buf_puts(&b, " takes no body");
    void *r = refuse(q, PAL_ERR_INVALID, b.p, out_n);
    pal_buf_free(&b);
    return r;
  }
  const char *const *fields = fields_of(q->op);
  if (!fields) {
    pal_buf b = {0};
    pal_buf_puts(&b, "the fake host does not implement ");
    pal_buf_quote(&b, q->op, strlen(q->op));
    void *r = refuse(q, PAL_ERR_UNKNOWN_OP, b.p, out_n);
    pal_buf_free(&b);
    return r;
  }
  pal_buf bad = {0};
  if (!bad_request(head, fields, &bad)) {
    void *r = refuse(q, PAL_ERR_INVALID, bad.p, out_n);
    pal_buf_free(&bad);
    return r;
  }
  int fs = strcmp(q->op, "fs.read") == 0 || strcmp(q->op, "fs.list") == 0;
  char *given = pal_json_strdef(pal_json_get(head, "path"));
  char *path = clean(given);
  pal_buf res = {0}, msg = {0};
  const char *code = NULL; /* a refusal: its code, msg its message */
  void *r = NULL;
  if (fs && !*given) {
    code = PAL_ERR_INVALID;
    pal_buf_puts(&msg, q->op);
    pal_buf_puts(&msg, " needs a path");
  } else if (fs) {
    /* The path policy: absolute, inside a root once cleaned, no deny rule. */
    int inside = !cur.h->roots || !cur.h->roots[0];
    for (const char *const *root = cur.h->roots; root && *root; root++) inside |= under(path, *root);
    const char *rule = *given == '/' ? deny_rule(path) : NULL;
    pal_buf_quote(&msg, given, strlen(given));
    if (*given != '/') {
      code = PAL_ERR_DENIED;
      pal_buf_puts(&msg, " is not an absolute path");
    } else if (!inside) {
      code = PAL_ERR_DENIED;
      pal_buf_puts(&msg, " is outside every allowed root");
    } else if (rule) {
      code = PAL_ERR_DENIED;
      pal_buf_puts(&msg, " matches deny rule ");
      pal_buf_quote(&msg, rule, strlen(rule));
    }
  }
  if (code) {
    /* refused above */
  } else if (strcmp(q->op, "fs.read") == 0) {
    const pal_fake_file *f = NULL;
    for (const pal_fake_file *x = cur.h->files; x && x->path; x++)
      if (strcmp(x->path, path) == 0) f = x;
    size_t size = f ? strlen(f->data) : 0, cap = cur.h->max_file_bytes ? cur.h->max_file_bytes : 1000000;
    size_t asked = (size_t)pal_json_num(pal_json_get(head, "max_bytes"), 0);
    if (!f) {
      code = is_dir(path) ? PAL_ERR_INVALID : PAL_ERR_NOT_FOUND;
      pal_buf_puts(&msg, is_dir(path) ? " is a directory" : " does not exist");
    } else if (asked == 0 && size > cap) {
      code = PAL_ERR_TOO_LARGE;
      pal_buf_puts(&msg, " is ");
      pal_buf_int(&msg, (long long)size);
      pal_buf_puts(&msg, " bytes, over the ");
      pal_buf_int(&msg, (long long)cap);
      pal_buf_puts(&msg, "-byte cap");
    } else {
      size_t max = asked && asked < cap ? asked : cap;
      size_t n = size < max ? size : max;
      pal_buf_puts(&res, "{");
      pal_json_kstr(&res, "path", path);
      pal_json_knum(&res, "size", (double)size);
      pal_json_kstr(&res, "modified", "2026-01-01T00:00:00Z");
      pal_json_kbool(&res, "truncated", n < size);
      pal_buf_puts(&res, "}");
      r = ok(q, &res, f->data, n, out_n);
    }
  } else if (strcmp(q->op, "fs.list") == 0) {
    int file = 0;
    for (const pal_fake_file *x = cur.h->files; x && x->path; x++) file |= strcmp(x->path, path) == 0;
    if (file || !is_dir(path)) {
      code = file ? PAL_ERR_INVALID : PAL_ERR_NOT_FOUND;
      pal_buf_puts(&msg, file ? " is not a directory" : " does not exist");
    } else {
      size_t n = 0, pn = strlen(path);
      for (const pal_fake_file *x = cur.h->files; x->path; x++) n++;
      const pal_fake_file **sorted = calloc(n ? n : 1, sizeof *sorted);
      if (!sorted) abort();
      size_t k = 0;
      for (const pal_fake_file *x = cur.h->files; x->path; x++)
        if (strncmp(x->path, path, pn) == 0 && (x->path[pn] == '/' || path[pn - 1] == '/') && !deny_rule(x->path))
          sorted[k++] = x;
      qsort(sorted, k, sizeof *sorted, by_path);
      pal_buf_puts(&res, "{");
      pal_json_kstr(&res, "path", given);
      pal_json_key(&res, "entries");
      pal_buf_puts(&res, "[");
      for (size_t i = 0; i < k; i++) {
        pal_json_sep(&res);
        pal_buf_puts(&res, "{");
        pal_json_kstr(&res, "path", sorted[i]->path);
        pal_json_kstr(&res, "kind", "file");
        pal_json_knum(&res, "size", (double)strlen(sorted[i]->data));
        pal_buf_puts(&res, "}");
      }
      pal_buf_puts(&res, "]");
      pal_json_kbool(&res, "truncated", 0);
      pal_buf_puts(&res, "}");
      free(sorted);
      r = ok(q, &res, NULL, 0, out_n);
    }
  } else if (strcmp(q->op, "model.generate") == 0 || strcmp(q->op, "model.resolve") == 0) {
    int generate = strcmp(q->op, "model.generate") == 0;
    char *model = pal_json_str(pal_json_get(head, "model"));
    const char *name = model && *model && strcmp(model, "auto") != 0 ? model : "fake-model";
    const char *reply = "ok";
    if (generate && !q->body) {
      r = refuse(q, PAL_ERR_INVALID, "model.generate needs the prompt as the message body", out_n);
    } else if (generate && cur.h->model && !(reply = cur.h->model(q->body, q->bn, cur.h->model_ctx))) {
      r = refuse(q, PAL_ERR_UPSTREAM, "the fake model failed", out_n);
    } else {
      pal_buf_puts(&res, "{");
      if (generate) pal_json_kstr(&res, "content", reply);
      pal_json_kstr(&res, "model", name);
      pal_json_kstr(&res, "provider", "fake");
      if (generate) pal_json_kstr(&res, "finish_reason", "stop");
      pal_buf_puts(&res, "}");
      r = ok(q, &res, NULL, 0, out_n);
    }
    free(model);
  } else if (strcmp(q->op, "progress") == 0) {
    pal_buf_puts(&res, "{}");
    r = ok(q, &res, NULL, 0, out_n);
  } else { /* host.info */
    pal_buf_puts(&res, "{\"name\":\"pal-fakehost\",\"version\":\"0\",\"abi\":1}");
    r = ok(q, &res, NULL, 0, out_n);
  }
  if (code) r = refuse(q, code, msg.p, out_n);
  pal_buf_free(&msg);
  free(given);
  free(path);
  return r;
}

void *pal_host_call(const void *req, size_t n, size_t *out_n) {
  if (!cur.out) abort(); /* a host call outside pal_fake_call */
  struct req q = {req, n, NULL, 0, NULL};
  const char *zero = memchr(req, 0, n);
  if (zero) {
    q.hn = (size_t)(zero - q.head);
    q.body = zero + 1;
    q.bn = n - q.hn - 1;
  }
  char *body = q.body ? dupn(q.body, q.bn) : NULL; /* NUL-terminated for the model callback */
  q.body = body;
  pal_json head = pal_json_parse(q.head, q.hn);
  q.op = pal_json_str(pal_json_get(head, "op"));
  void *r;
  if (pal_json_type(head) != PAL_JSON_OBJECT || !q.op || !*q.op) {
    int object = pal_json_type(head) == PAL_JSON_OBJECT;
    free(q.op);
    q.op = dup("");
    r = refuse(&q, PAL_ERR_INVALID, object ? "request has no \"op\"" : "request is not a JSON object message", out_n);
  } else {
    r = serve(&q, head, out_n);
  }
  free(q.op);
  free(body);
  return r;
}

void pal_host_log(int level, const char *msg, size_t n) {
  (void)level;
  if (!cur.out) return;
  pal_buf b = {0};
  if (cur.out->logs) pal_buf_puts(&b, cur.out->logs);
  pal_buf_put(&b, msg, n);
  pal_buf_puts(&b, "\n");
  free(cur.out->logs);
  cur.out->logs = b.p;
}

int pal_fake_call(const pal_fake_host *h, const char *tool, const char *args_json, pal_fake_outcome *out) {
  memset(out, 0, sizeof *out);
  out->text = dup("");
  out->result = dup("");
  out->logs = dup("");
  size_t mn;
  const char *m = pal_manifest(&mn);
  pal_json tools = pal_json_get(pal_json_parse(m, mn), "tools"), t = {0}, caps = {0};
  int found = 0;
  while (!found && pal_json_next(tools, &t)) {
    char *name = pal_json_strdef(pal_json_get(t, "name"));
    if (strcmp(name, tool) == 0) found = 1, caps = pal_json_get(t, "capabilities");
    free(name);
  }
  if (!found) return -1;

  memset(&cur, 0, sizeof cur);
  cur.h = h;
  cur.tool = tool;
  cur.out = out;
  size_t g = 0;
  for (const char *const *c = known_caps; *c; c++) {
    pal_json it = {0};
    int declared = 0;
    while (pal_json_next(caps, &it)) {
      char *s = pal_json_strdef(it);
      declared |= strcmp(s, *c) == 0;
      free(s);
    }
    if (declared && in(h->grant, *c)) cur.grant[g++] = *c;
  }

  pal_buf req = {0};
  pal_buf_puts(&req, "{\"abi\":1");
  pal_json_kstr(&req, "tool", tool);
  pal_json_kstr(&req, "call_id", "c1");
  pal_json_kraw(&req, "arguments", args_json ? args_json : "{}");
  pal_buf_puts(&req, "}");
  char *in_buf = pal_alloc(req.len);
  if (!in_buf) abort();
  memcpy(in_buf, req.p, req.len);
  size_t rn;
  const char *res = pal_handle(in_buf, req.len, &rn);
  pal_buf_free(&req);
  memset(&cur, 0, sizeof cur);

  free(out->result);
  out->result = dupn(res, rn);
  pal_json r = pal_json_parse(out->result, rn), item = {0};
  if (pal_json_type(r) != PAL_JSON_OBJECT) return -1;
  out->is_error = pal_json_bool(pal_json_get(r, "isError"));
  pal_buf text = {0};
  pal_buf_puts(&text, "");
  while (pal_json_next(pal_json_get(r, "content"), &item)) {
    char *s = pal_json_strdef(pal_json_get(item, "text"));
    pal_buf_puts(&text, s);
    free(s);
  }
  free(out->text);
  out->text = text.p;
  return 0;
}

void pal_fake_outcome_free(pal_fake_outcome *o) {
  for (size_t i = 0; i < o->nops; i++) {
    free(o->ops[i].op);
    free(o->ops[i].code);
    free(o->ops[i].request);
    free(o->ops[i].body);
  }
  free(o->ops);
  free(o->text);
  free(o->result);
  free(o->logs);
  memset(o, 0, sizeof *o);
}

const pal_fake_op *pal_fake_find_op(const pal_fake_outcome *o, const char *op) {
  for (size_t i = 0; i < o->nops; i++)
    if (strcmp(o->ops[i].op, op) == 0) return &o->ops[i];
  return NULL;
}
