/* todo_finder: a pal tool written in C with the kit in tools-wasm/kits/c. It lists the files
 * under a directory (fs.list), reads each through the host (fs.read), collects the lines that
 * hold TODO or FIXME, and asks a model to summarise them (model.generate). Everything it
 * touches goes through the host, which checks the grant, the path policy and the budgets. */
#include <stdlib.h>
#include <string.h>

#include "pal.h"

/* At most this many files are read, and this many TODO lines sent to the model. */
enum { MAX_FILES = 200, MAX_LINES = 200 };
/* Each file is read up to this many bytes. */
enum { MAX_FILE_BYTES = 256 * 1024 };

static pal_result *find_todos(const pal_call *call);

static const char *const caps[] = {PAL_CAP_FS_LIST, PAL_CAP_FS_READ, PAL_CAP_MODEL_GENERATE, PAL_CAP_PROGRESS, NULL};

static const pal_tool todo_finder = {
    .name = "todo_finder",
    .title = "Find TODOs",
    .description = "Lists the files under a directory, collects their TODO and FIXME lines and asks a model to summarise them.",
    .input_schema = "{\"type\":\"object\",\"properties\":{"
                    "\"path\":{\"type\":\"string\",\"description\":\"absolute directory to search\"},"
                    "\"model\":{\"type\":\"string\",\"description\":\"model for the summary\"}},"
                    "\"required\":[\"path\"],\"additionalProperties\":false}",
    .capabilities = caps,
    .read_only = PAL_TRUE,
    .destructive = PAL_FALSE,
    .idempotent = PAL_FALSE,
    .category = "fast",
    .requires_model = 1,
    .handler = find_todos,
};

void pal_init(void) {
  pal_module("todo-finder-c", "0.1.0");
  pal_register(&todo_finder);
}

/* trim returns the line s[0:*n] without the spaces and tabs around it, updating *n. */
static const char *trim(const char *s, size_t *n) {
  while (*n && (*s == ' ' || *s == '\t')) s++, (*n)--;
  while (*n && (s[*n - 1] == ' ' || s[*n - 1] == '\t' || s[*n - 1] == '\r')) (*n)--;
  return s;
}

/* has reports whether s[0:n] contains word. */
static int has(const char *s, size_t n, const char *word) {
  size_t w = strlen(word);
  for (size_t i = 0; i + w <= n; i++)
    if (memcmp(s + i, word, w) == 0) return 1;
  return 0;
}

/* collect appends "path:line: text" for each TODO or FIXME line of f to todos (one per line,
 * and as JSON strings to list), counting them in *found. */
static void collect(const char *path, const pal_file *f, pal_buf *todos, pal_buf *list, int *found) {
  const char *p = f->data, *end = f->data + f->len;
  for (long long line = 1; p < end && *found < MAX_LINES; line++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = (size_t)((nl ? nl : end) - p);
    if (has(p, n, "TODO") || has(p, n, "FIXME")) {
      pal_buf one = {0};
      const char *t = trim(p, &n);
      pal_buf_puts(&one, path);
      pal_buf_puts(&one, ":");
      pal_buf_int(&one, line);
      pal_buf_puts(&one, ": ");
      pal_buf_put(&one, t, n);
      if (!one.failed) {
        pal_buf_put(todos, one.p, one.len);
        pal_buf_puts(todos, "\n");
        pal_json_sep(list);
        pal_buf_quote(list, one.p, one.len);
      }
      pal_buf_free(&one);
      (*found)++;
    }
    if (!nl) break;
    p = nl + 1;
  }
}

static pal_result *find_todos(const pal_call *call) {
  char *dir = pal_json_strdef(pal_json_get(call->args, "path"));
  char *model = pal_json_strdef(pal_json_get(call->args, "model"));
  pal_result *r = NULL;
  pal_buf todos = {0}, list = {0}, head = {0};
  int read = 0, skipped = 0, found = 0;
  pal_listing l = pal_fs_list(dir, 0, 0);
  if (l.error) {
    char *why = pal_error_string(l.error);
    r = pal_result_new(1);
    pal_buf_puts(&r->text, "fs.list ");
    pal_buf_puts(&r->text, dir);
    pal_buf_puts(&r->text, " refused: ");
    pal_buf_puts(&r->text, why);
    free(why);
    goto done;
  }

  pal_buf_puts(&list, "[");
  for (size_t i = 0; i < l.count && read < MAX_FILES; i++) {
    const pal_entry *e = &l.entries[i];
    if (strcmp(e->kind, "file") != 0) continue;
    pal_file f = pal_fs_read(e->path, MAX_FILE_BYTES);
    if (f.error) {
      /* A denied file (a deny glob, a symlink out of the root) is skipped, and so is one we
       * cannot read; the tool reports how many. */
      char *why = pal_error_string(f.error);
      pal_buf msg = {0};
      pal_buf_puts(&msg, "skipped ");
      pal_buf_puts(&msg, e->path);
      pal_buf_puts(&msg, ": ");
      pal_buf_puts(&msg, why);
      if (!msg.failed) pal_log(PAL_LOG_INFO, msg.p);
      pal_buf_free(&msg);
      free(why);
      pal_file_free(&f);
      skipped++;
      continue;
    }
    read++;
    collect(e->path, &f, &todos, &list, &found);
    pal_file_free(&f);
    pal_buf msg = {0};
    pal_buf_puts(&msg, "read ");
    pal_buf_puts(&msg, e->path);
    pal_error_free(pal_progress(read, 0, msg.p));
    pal_buf_free(&msg);
  }
  pal_buf_puts(&list, "]");

  pal_buf_puts(&head, "Read ");
  pal_buf_int(&head, read);
  pal_buf_puts(&head, " files, skipped ");
  pal_buf_int(&head, skipped);
  pal_buf_puts(&head, ", found ");
  pal_buf_int(&head, found);
  pal_buf_puts(&head, " TODO lines.");
  if (found == 0) {
    r = pal_text(head.p);
    goto done;
  }

  pal_buf prompt = {0};
  pal_buf_puts(&prompt, "TODO and FIXME lines found in ");
  pal_buf_puts(&prompt, dir);
  pal_buf_puts(&prompt, ":\n");
  pal_buf_put(&prompt, todos.p, todos.len);
  pal_generate_opts opts = {
      .model = model,
      .system = "You summarise TODO comments for a developer: group them by theme, most urgent first, in a few lines.",
  };
  pal_generation g = pal_model_generate(prompt.p, prompt.len, &opts);
  pal_buf_free(&prompt);
  if (g.error) {
    char *why = pal_error_string(g.error);
    r = pal_result_new(1);
    pal_buf_put(&r->text, head.p, head.len);
    pal_buf_puts(&r->text, "\nmodel.generate refused: ");
    pal_buf_puts(&r->text, why);
    free(why);
  } else {
    r = pal_result_new(0);
    pal_buf_put(&r->text, head.p, head.len);
    pal_buf_puts(&r->text, "\n\nSummary (");
    pal_buf_puts(&r->text, g.model);
    pal_buf_puts(&r->text, "):\n");
    pal_buf_puts(&r->text, g.content);
    pal_buf_puts(&r->text, "\n\n");
    pal_buf_put(&r->text, todos.p, todos.len);
    pal_buf *s = &r->structured;
    pal_buf_puts(s, "{");
    pal_json_knum(s, "files_read", read);
    pal_json_knum(s, "files_skipped", skipped);
    pal_json_kraw(s, "todos", list.p);
    pal_json_kstr(s, "model", g.model);
    pal_buf_puts(s, "}");
  }
  pal_generation_free(&g);

done:
  pal_buf_free(&todos);
  pal_buf_free(&list);
  pal_buf_free(&head);
  pal_listing_free(&l);
  free(dir);
  free(model);
  return r;
}
