// todo_finder: a pal tool written in AssemblyScript with @pal-mcp/as-kit. It lists the files
// under a directory (fs.list), reads each through the host (fs.read), collects the lines that
// hold TODO or FIXME, and asks a model to summarise them (model.generate). Everything it
// touches goes through the host, which checks the grant, the path policy and the budgets.
import * as pal from "@pal-mcp/as-kit/assembly";
export { alloc, free, describe, handle } from "@pal-mcp/as-kit/assembly";

/** At most this many files are read, and this many TODO lines sent to the model. */
const MAX_FILES = 200;
const MAX_LINES = 200;
/** Each file is read up to this many bytes. */
const MAX_FILE_BYTES: f64 = 256 * 1024;

pal.setModule("todo-finder", "0.1.0");

const tool = new pal.Tool(
  "todo_finder",
  "Find TODOs",
  "Lists the files under a directory, collects their TODO and FIXME lines and asks a model to summarise them.",
  `{"type":"object","properties":{` +
    `"path":{"type":"string","description":"absolute directory to search"},` +
    `"model":{"type":"string","description":"model for the summary"}},` +
    `"required":["path"],"additionalProperties":false}`,
  [pal.CAP_FS_LIST, pal.CAP_FS_READ, pal.CAP_MODEL_GENERATE, pal.CAP_PROGRESS],
  findTodos,
).readOnly(false);
tool.category = "fast";
tool.requiresModel = true;
pal.register(tool);

function findTodos(call: pal.Call): pal.Result {
  const dir = call.args.get("path").str();
  const listing = pal.fs.list(dir);
  if (listing.error !== null) {
    return pal.errorResult("fs.list " + dir + " refused: " + listing.error!.toString());
  }
  const todos: string[] = [];
  let read = 0;
  let skipped = 0;
  for (let i = 0; i < listing.entries.length && read < MAX_FILES; i++) {
    const e = listing.entries[i];
    if (e.kind != "file") continue;
    const f = pal.fs.read(e.path, MAX_FILE_BYTES);
    if (f.error !== null) {
      // A denied file (a deny glob, a symlink out of the root) is skipped, and so is one we
      // cannot read; the tool reports how many.
      pal.log(pal.LOG_INFO, "skipped " + e.path + ": " + f.error!.toString());
      skipped++;
      continue;
    }
    read++;
    const lines = f.text().split("\n");
    for (let n = 0; n < lines.length && todos.length < MAX_LINES; n++) {
      const line = lines[n];
      if (line.includes("TODO") || line.includes("FIXME")) {
        todos.push(e.path + ":" + (n + 1).toString() + ": " + line.trim());
      }
    }
    pal.progress(<f64>read, 0, "read " + e.path);
  }
  const head = "Read " + read.toString() + " files, skipped " + skipped.toString() + ", found " + todos.length.toString() + " TODO lines.";
  if (todos.length == 0) return pal.text(head);

  const opts = new pal.GenerateOptions();
  opts.model = call.args.get("model").str();
  opts.system = "You summarise TODO comments for a developer: group them by theme, most urgent first, in a few lines.";
  const g = pal.model.generate("TODO and FIXME lines found in " + dir + ":\n" + todos.join("\n"), opts);
  if (g.error !== null) {
    return pal.errorResult(head + "\nmodel.generate refused: " + g.error!.toString());
  }
  const r = pal.text(head + "\n\nSummary (" + g.model + "):\n" + g.content + "\n\n" + todos.join("\n"));
  r.structured = new pal.Obj()
    .num("files_read", read)
    .num("files_skipped", skipped)
    .strs("todos", todos)
    .str("model", g.model)
    .toString();
  return r;
}
