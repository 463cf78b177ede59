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

static const char *const implemented[] = {"fs.read", "fs.list", "model.generate", "model.resolve",
                                          "progress", "host.info", NULL};

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
  if (!in(implemented, q->op)) {
    pal_buf b = {0};
    pal_buf_puts(&b, "the fake host does not implement ");
    pal_buf_quote(&b, q->op, strlen(q->op));
    void *r = refuse(q, PAL_ERR_UNKNOWN_OP, b.p, out_n);
    pal_buf_free(&b);
    return r;
  }
  char *path = pal_json_str(pal_json_get(head, "path"));
  pal_buf res = {0};
  void *r = NULL;
  if (path && path[0] != '/') {
    pal_buf b = {0};
    pal_buf_quote(&b, path, strlen(path));
    pal_buf_puts(&b, " is not an absolute path");
    r = refuse(q, PAL_ERR_INVALID, b.p, out_n);
    pal_buf_free(&b);
  } else if (path && in(cur.h->deny, path)) {
    pal_buf b = {0};
    pal_buf_quote(&b, path, strlen(path));
    pal_buf_puts(&b, " matches a deny rule");
    r = refuse(q, PAL_ERR_DENIED, b.p, out_n);
    pal_buf_free(&b);
  } else if (strcmp(q->op, "fs.read") == 0) {
    const pal_fake_file *f = NULL;
    for (const pal_fake_file *x = cur.h->files; path && x && x->path; x++)
      if (strcmp(x->path, path) == 0) f = x;
    if (!f) {
      pal_buf b = {0};
      pal_buf_quote(&b, path ? path : "", path ? strlen(path) : 0);
      pal_buf_puts(&b, path && is_dir(path) ? " is a directory" : " does not exist");
      r = refuse(q, path && is_dir(path) ? PAL_ERR_INVALID : PAL_ERR_NOT_FOUND, b.p, out_n);
      pal_buf_free(&b);
    } else {
      size_t size = strlen(f->data);
      size_t max = (size_t)pal_json_num(pal_json_get(head, "max_bytes"), 1000000);
      size_t n = size < max ? size : max;
      pal_buf_puts(&res, "{");
      pal_json_kstr(&res, "path", path);
      pal_json_knum(&res, "size", (double)size);
      pal_json_kstr(&res, "modified", "2026-01-01T00:00:00Z");
      pal_json_kbool(&res, "truncated", size > max);
      pal_buf_puts(&res, "}");
      r = ok(q, &res, f->data, n, out_n);
    }
  } else if (strcmp(q->op, "fs.list") == 0) {
    if (!path || !is_dir(path)) {
      pal_buf b = {0};
      pal_buf_quote(&b, path ? path : "", path ? strlen(path) : 0);
      pal_buf_puts(&b, " does not exist");
      r = refuse(q, PAL_ERR_NOT_FOUND, b.p, out_n);
      pal_buf_free(&b);
    } else {
      size_t n = 0, pn = strlen(path);
      for (const pal_fake_file *x = cur.h->files; x->path; x++) n++;
      const pal_fake_file **sorted = calloc(n ? n : 1, sizeof *sorted);
      if (!sorted) abort();
      size_t k = 0;
      for (const pal_fake_file *x = cur.h->files; x->path; x++)
        if (strncmp(x->path, path, pn) == 0 && (x->path[pn] == '/' || path[pn - 1] == '/') && !in(cur.h->deny, x->path))
          sorted[k++] = x;
      qsort(sorted, k, sizeof *sorted, by_path);
      pal_buf_puts(&res, "{");
      pal_json_kstr(&res, "path", path);
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
  if (pal_json_type(head) != PAL_JSON_OBJECT || !q.op) {
    char none[] = "";
    q.op = q.op ? q.op : dup(none);
    r = refuse(&q, PAL_ERR_INVALID, "request has no \"op\"", out_n);
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
