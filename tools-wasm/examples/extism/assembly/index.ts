// todo_finder as an Extism plugin: the same tool as tools-wasm/examples/assemblyscript, written
// against Extism's plugin ABI with @extism/as-pdk. pal loads it with `abi = "extism"` in its
// [[modules]] entry and offers its capabilities through one host function, pal_call, which
// takes ABI v1's request messages (docs/abi.md, "Extism plugins"). JSON comes from the pal
// kit's dependency-free reader (assembly/json.ts); nothing else of the kit is used.
import { Host, Memory, LogLevel } from "@extism/as-pdk";
import { length } from "@extism/as-pdk/lib/env";
import { Obj, Value, parse } from "@pal-mcp/as-kit/assembly/json";

// pal's host function: the offset of a block holding a request message in, of the reply out.
@external("extism:host/user", "pal_call")
declare function palCall(req: u64): u64;

const MAX_FILES = 200;
const MAX_LINES = 200;

const SCHEMA =
  `{"type":"object","properties":{` +
  `"path":{"type":"string","description":"absolute directory to search"},` +
  `"model":{"type":"string","description":"model for the summary"}},` +
  `"required":["path"],"additionalProperties":false}`;

function output(s: string): void {
  Host.output(Uint8Array.wrap(String.UTF8.encode(s)));
}

/** Extism export: the manifest (ABI v1's) as output. */
export function describe(): i32 {
  const tool = new Obj()
    .str("name", "todo_finder")
    .str("title", "Find TODOs (Extism)")
    .str("description", "Lists the files under a directory, collects their TODO and FIXME lines and asks a model to summarise them.")
    .raw("inputSchema", SCHEMA)
    .raw("annotations", `{"readOnlyHint":true,"destructiveHint":false,"openWorldHint":true}`)
    .strs("capabilities", ["fs.list", "fs.read", "model.generate", "progress"])
    .str("category", "fast")
    .bool("requiresModel", true);
  output(new Obj().num("abi", 1).str("name", "todo-finder-extism").str("version", "0.1.0").raw("tools", "[" + tool.toString() + "]").toString());
  return 0;
}

/** A reply from pal_call: the parsed header (with "result" or "error") and the body. */
class Reply {
  constructor(
    public head: Value,
    public body: Uint8Array,
  ) {}
  get failed(): bool {
    return this.head.has("error");
  }
  get error(): string {
    const e = this.head.get("error");
    return e.get("code").str() + ": " + e.get("message").str();
  }
}

/** Performs one op through pal: header JSON, then 0x00 and body when there is one. */
function call(header: string, body: Uint8Array | null = null): Reply {
  const head = Uint8Array.wrap(String.UTF8.encode(header));
  let msg = head;
  if (body !== null) {
    msg = new Uint8Array(head.length + 1 + body.length);
    msg.set(head);
    msg.set(body!, head.length + 1);
  }
  const mem = Memory.allocate(msg.length);
  mem.store(msg); // 8 bytes per host call; Memory.allocateBytes would take one per byte
  const off = palCall(mem.offset);
  mem.free();
  if (off == 0) return new Reply(parse(`{"error":{"code":"internal","message":"no reply"}}`)!, new Uint8Array(0));
  const all = new Memory(off, length(off)).toUint8Array();
  let split = all.length;
  for (let i = 0; i < all.length; i++) {
    if (all[i] == 0) {
      split = i;
      break;
    }
  }
  const parsed = parse(String.UTF8.decode(all.buffer.slice(0, split)));
  const h = parsed === null ? parse(`{"error":{"code":"internal","message":"reply is not JSON"}}`)! : parsed;
  return new Reply(h, split < all.length ? all.slice(split + 1) : new Uint8Array(0));
}

function result(text: string, isError: bool): string {
  return new Obj()
    .raw("content", "[" + new Obj().str("type", "text").str("text", text).toString() + "]")
    .bool("isError", isError)
    .toString();
}

/** Extism export: one tool call; input is ABI v1's handle request, output the result. */
export function handle(): i32 {
  const req = parse(Host.inputString());
  if (req === null) {
    output(result("the request is not JSON", true));
    return 0;
  }
  const args = req.get("arguments");
  const dir = args.get("path").str();
  const listing = call(new Obj().str("op", "fs.list").str("path", dir).toString());
  if (listing.failed) {
    output(result("fs.list " + dir + " refused: " + listing.error, true));
    return 0;
  }
  const entries = listing.head.get("result").get("entries");
  const todos: string[] = [];
  let read = 0;
  let skipped = 0;
  for (let i = 0; i < entries.length && read < MAX_FILES; i++) {
    const e = entries.at(i);
    if (e.get("kind").str() != "file") continue;
    const path = e.get("path").str();
    const f = call(new Obj().str("op", "fs.read").str("path", path).num("max_bytes", 256 * 1024).toString());
    if (f.failed) {
      Host.log(LogLevel.Info, "skipped " + path + ": " + f.error);
      skipped++;
      continue;
    }
    read++;
    const lines = String.UTF8.decode(f.body.buffer).split("\n");
    for (let n = 0; n < lines.length && todos.length < MAX_LINES; n++) {
      const line = lines[n];
      if (line.includes("TODO") || line.includes("FIXME")) todos.push(path + ":" + (n + 1).toString() + ": " + line.trim());
    }
    call(new Obj().str("op", "progress").num("progress", read).str("message", "read " + path).toString());
  }
  const head = "Read " + read.toString() + " files, skipped " + skipped.toString() + ", found " + todos.length.toString() + " TODO lines.";
  if (todos.length == 0) {
    output(result(head, false));
    return 0;
  }
  const gen = new Obj().str("op", "model.generate").str("system", "You summarise TODO comments for a developer: group them by theme, most urgent first, in a few lines.");
  const model = args.get("model").str();
  if (model != "") gen.str("model", model);
  const g = call(gen.toString(), Uint8Array.wrap(String.UTF8.encode("TODO and FIXME lines found in " + dir + ":\n" + todos.join("\n"))));
  if (g.failed) {
    output(result(head + "\nmodel.generate refused: " + g.error, true));
    return 0;
  }
  const r = g.head.get("result");
  output(result(head + "\n\nSummary (" + r.get("model").str() + "):\n" + r.get("content").str() + "\n\n" + todos.join("\n"), false));
  return 0;
}


/** AssemblyScript's abort, with no env.abort import: the plugin traps and pal reports a crash. */
function abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  unreachable();
}
