// pal tool kit for AssemblyScript: ABI v1 (docs/abi.md) for AssemblyScript guests.
//
// A tool module's entry file registers its tools at top level and re-exports the four ABI
// exports from this package:
//
//   import * as pal from "@pal-mcp/as-kit/assembly";
//   export { alloc, free, describe, handle } from "@pal-mcp/as-kit/assembly";
//
// Build it with abort routed to the kit, so the module imports nothing but pal.call and
// pal.log: `asc tool.ts --runtime incremental --use abort=<kit>/assembly/index/abort`.
import { Kind, Obj, Value, parse, quote, number } from "./json";
export { Kind, Obj, Value, parse, quote, number } from "./json";

/** The ABI version this kit implements. */
export const ABI: i32 = 1;

// ---------------------------------------------------------------------------------------
// Host imports (module "pal").

@external("pal", "call")
declare function hostCall(ptr: usize, len: u32): u64;

@external("pal", "log")
declare function hostLog(level: i32, ptr: usize, len: u32): void;

// ---------------------------------------------------------------------------------------
// Capabilities and error codes, as docs/abi.md names them.

export const CAP_FS_READ = "fs.read";
export const CAP_FS_LIST = "fs.list";
export const CAP_MODEL_GENERATE = "model.generate";
export const CAP_MODEL_LIST = "model.list";
export const CAP_THREAD_READ = "thread.read";
export const CAP_THREAD_WRITE = "thread.write";
export const CAP_PROGRESS = "progress";
export const CAP_HOST_INFO = "host.info";
export const CAP_GIT_READ = "git.read";
export const CAP_CLI_RUN = "cli.run";

export const ERR_DENIED = "denied"; // the policy refuses the path or argument
export const ERR_NOT_GRANTED = "not_granted"; // the op's capability is not in this call's grant
export const ERR_INVALID = "invalid";
export const ERR_UNKNOWN_OP = "unknown_op";
export const ERR_NOT_FOUND = "not_found";
export const ERR_TOO_LARGE = "too_large";
export const ERR_UNAVAILABLE = "unavailable";
export const ERR_UPSTREAM = "upstream";
export const ERR_CANCELLED = "cancelled";
export const ERR_INTERNAL = "internal";
export const ERR_OVER_BUDGET = "over_budget";
export const ERR_REENTRANT = "reentrant";

// ---------------------------------------------------------------------------------------
// Tools and the manifest.

/** A tool handler: the call's arguments in, the tool's result out. */
export type Handler = (call: Call) => Result;

/** One tool of the module, as the manifest describes it (docs/abi.md "Manifest"). */
export class Tool {
  /** `readOnlyHint`, `destructiveHint`, `idempotentHint`, `openWorldHint`: -1 unset, 0 false, 1 true. */
  readOnlyHint: i8 = -1;
  destructiveHint: i8 = -1;
  idempotentHint: i8 = -1;
  openWorldHint: i8 = -1;
  /** `fast`, `balanced` or `extended`; "" leaves it out (the host takes `balanced`). */
  category: string = "";
  /** Whether the tool calls a model; the host then describes the `model` argument. */
  requiresModel: bool = false;

  /**
   * name: 1 to 64 of [a-z0-9_], starting with a letter. inputSchema: a JSON Schema object
   * as text. capabilities: what the tool may ask for (CAP_*); pal.toml must grant them too.
   */
  constructor(
    public name: string,
    public title: string,
    public description: string,
    public inputSchema: string,
    public capabilities: string[],
    public handler: Handler,
  ) {}

  /** Marks the tool read-only (and so not destructive) and, when idempotent, idempotent. */
  readOnly(idempotent: bool = true): Tool {
    this.readOnlyHint = 1;
    this.destructiveHint = 0;
    this.idempotentHint = idempotent ? 1 : 0;
    return this;
  }

  /** Says whether the tool reaches beyond the local machine (a model call does). */
  openWorld(yes: bool): Tool {
    this.openWorldHint = yes ? 1 : 0;
    return this;
  }

  toJSON(): string {
    const o = new Obj()
      .str("name", this.name)
      .str("title", this.title)
      .str("description", this.description)
      .raw("inputSchema", this.inputSchema);
    const a = new Obj();
    if (this.readOnlyHint >= 0) a.bool("readOnlyHint", this.readOnlyHint == 1);
    if (this.destructiveHint >= 0) a.bool("destructiveHint", this.destructiveHint == 1);
    if (this.idempotentHint >= 0) a.bool("idempotentHint", this.idempotentHint == 1);
    if (this.openWorldHint >= 0) a.bool("openWorldHint", this.openWorldHint == 1);
    o.raw("annotations", a.toString()).strs("capabilities", this.capabilities);
    if (this.category != "") o.str("category", this.category);
    if (this.requiresModel) o.bool("requiresModel", true);
    return o.toString();
  }
}

let moduleName = "assemblyscript";
let moduleVersion = "0.1.0";
const tools: Tool[] = [];

/** Names the module in its manifest. */
export function setModule(name: string, version: string): void {
  moduleName = name;
  moduleVersion = version;
}

/** Adds a tool to the manifest. Call it from the entry file's top level. */
export function register(tool: Tool): void {
  tools.push(tool);
}

/** The manifest `describe` returns, as JSON text. */
export function manifestJSON(): string {
  const parts = new Array<string>(tools.length);
  for (let i = 0; i < tools.length; i++) parts[i] = tools[i].toJSON();
  return new Obj()
    .num("abi", ABI)
    .str("name", moduleName)
    .str("version", moduleVersion)
    .raw("tools", "[" + parts.join(",") + "]")
    .toString();
}

// ---------------------------------------------------------------------------------------
// Calls and results.

/** One tool call: which tool, its id, and the client's arguments (already checked against the schema by the host). */
export class Call {
  constructor(
    public tool: string,
    public callId: string,
    public args: Value,
  ) {}
}

/** A tool's result: an MCP CallToolResult with one text item. */
export class Result {
  /** JSON text for `structuredContent`; "" leaves it out. */
  structured: string = "";
  constructor(
    public text: string,
    public isError: bool = false,
  ) {}

  toJSON(): string {
    const item = new Obj().str("type", "text").str("text", this.text).toString();
    const o = new Obj().raw("content", "[" + item + "]").bool("isError", this.isError);
    if (this.structured != "") o.raw("structuredContent", this.structured);
    return o.toString();
  }
}

/** A successful text result. */
export function text(s: string): Result {
  return new Result(s, false);
}

/** An error result: the client sees isError with this text. */
export function errorResult(s: string): Result {
  return new Result(s, true);
}

/** A refusal or failure from the host: code is one of ERR_*. */
export class HostError {
  constructor(
    public code: string,
    public message: string,
  ) {}
  toString(): string {
    return this.code + ": " + this.message;
  }
}

/** A reply to an op: either error is set, or result (and body when the op returns one). */
export class Reply {
  error: HostError | null = null;
  result: Value = new Value();
  body: Uint8Array = new Uint8Array(0);
}

// ---------------------------------------------------------------------------------------
// The ABI exports. Re-export them from the entry file.

// out keeps the last buffer handed to the host alive until the guest is entered again.
let out: ArrayBuffer = new ArrayBuffer(0);

function pack(buf: ArrayBuffer): u64 {
  out = buf;
  return (<u64>changetype<usize>(buf) << 32) | <u64>buf.byteLength;
}

/** Export `alloc`: size writable bytes outside the garbage-collected heap, or 0. */
export function alloc(size: u32): usize {
  return heap.alloc(<usize>max<u32>(size, 1));
}

/** Export `free`: releases a buffer from alloc. */
export function free(ptr: usize): void {
  if (ptr != 0) heap.free(ptr);
}

/** Export `describe`: the packed manifest. */
export function describe(): u64 {
  return pack(String.UTF8.encode(manifestJSON()));
}

/** Export `handle`: runs one call; the request is in a buffer from alloc, which it frees. */
export function handle(ptr: usize, len: u32): u64 {
  const req = String.UTF8.decodeUnsafe(ptr, len);
  free(ptr);
  return pack(String.UTF8.encode(dispatch(req).toJSON()));
}

function dispatch(reqText: string): Result {
  const req = parse(reqText);
  if (req === null) return errorResult("the host sent a request that is not JSON");
  const name = req.get("tool").str();
  for (let i = 0; i < tools.length; i++) {
    if (tools[i].name == name) {
      const args = req.get("arguments");
      return tools[i].handler(new Call(name, req.get("call_id").str(), args.kind == Kind.Object ? args : new Value()));
    }
  }
  return errorResult("this module has no tool named " + quote(name));
}

// ---------------------------------------------------------------------------------------
// Host calls.

/**
 * Performs one op: header is the request's JSON object text (with "op"), body its optional
 * binary body (a prompt, for model.generate). Every op of ABI 1 is reachable through it; the
 * functions below wrap the common ones.
 */
export function call(header: string, body: Uint8Array | null = null): Reply {
  const head = String.UTF8.encode(header);
  const headLen = <u32>head.byteLength;
  const bodyLen = body === null ? 0 : <u32>body.length;
  const total = headLen + (body === null ? 0 : 1 + bodyLen);
  const req = heap.alloc(<usize>max<u32>(total, 1));
  memory.copy(req, changetype<usize>(head), headLen);
  if (body !== null) {
    store<u8>(req + headLen, 0);
    memory.copy(req + headLen + 1, body.dataStart, bodyLen);
  }
  const packed = hostCall(req, total);
  heap.free(req);
  const r = new Reply();
  if (packed == 0) {
    r.error = new HostError(ERR_INTERNAL, "the host could not place its reply (alloc failed)");
    return r;
  }
  const p = <usize>(packed >> 32);
  const n = <u32>(packed & 0xffffffff);
  let split = n;
  for (let i: u32 = 0; i < n; i++) {
    if (load<u8>(p + i) == 0) {
      split = i;
      break;
    }
  }
  const headText = String.UTF8.decodeUnsafe(p, split);
  if (split < n) {
    const b = new Uint8Array(n - split - 1);
    memory.copy(b.dataStart, p + split + 1, n - split - 1);
    r.body = b;
  }
  free(p);
  const reply = parse(headText);
  if (reply === null) {
    r.error = new HostError(ERR_INTERNAL, "the host's reply is not JSON");
    return r;
  }
  if (reply.has("error")) {
    const e = reply.get("error");
    r.error = new HostError(e.get("code").str(ERR_INTERNAL), e.get("message").str());
    return r;
  }
  r.result = reply.get("result");
  return r;
}

/** Log levels of pal.log. */
export const LOG_DEBUG: i32 = 0;
export const LOG_INFO: i32 = 1;
export const LOG_WARN: i32 = 2;
export const LOG_ERROR: i32 = 3;

/** Writes a line to the server's log (never to the client). */
export function log(level: i32, msg: string): void {
  const b = String.UTF8.encode(msg);
  hostLog(level, changetype<usize>(b), <u32>b.byteLength);
}

/**
 * Sends a progress notification (capability `progress`). total 0 leaves it out. Returns the
 * host's refusal, or null.
 */
export function progress(done: f64, total: f64 = 0, message: string = ""): HostError | null {
  const o = new Obj().str("op", "progress").num("progress", done);
  if (total > 0) o.num("total", total);
  if (message != "") o.str("message", message);
  return call(o.toString()).error;
}

/** A file read through fs.read. */
export class FileData {
  error: HostError | null = null;
  path: string = "";
  /** The file's size on disk, in bytes. */
  size: f64 = 0;
  truncated: bool = false;
  /** How many secrets the host replaced by [REDACTED:…] markers. */
  redacted: i32 = 0;
  /** The bytes read, secrets redacted. */
  data: Uint8Array = new Uint8Array(0);

  /** data as UTF-8 text. */
  text(): string {
    return String.UTF8.decodeUnsafe(this.data.dataStart, <usize>this.data.length);
  }
}

/** One entry of a listing. kind is "file", "dir" or "symlink". */
export class Entry {
  constructor(
    public path: string,
    public kind: string,
    public size: f64,
  ) {}
}

/** A directory listing from fs.list. */
export class Listing {
  error: HostError | null = null;
  entries: Entry[] = [];
  truncated: bool = false;
}

export namespace fs {
  /** Reads an absolute path (capability `fs.read`); maxBytes 0 means the policy's cap. */
  export function read(path: string, maxBytes: f64 = 0): FileData {
    const o = new Obj().str("op", "fs.read").str("path", path);
    if (maxBytes > 0) o.num("max_bytes", maxBytes);
    const r = call(o.toString());
    const f = new FileData();
    f.error = r.error;
    if (r.error !== null) return f;
    f.path = r.result.get("path").str();
    f.size = r.result.get("size").num();
    f.truncated = r.result.get("truncated").bool();
    f.redacted = <i32>r.result.get("redacted").num();
    f.data = r.body;
    return f;
  }

  /** Lists an absolute directory (capability `fs.list`); 0 means the policy's default. */
  export function list(path: string, maxDepth: i32 = 0, maxEntries: i32 = 0): Listing {
    const o = new Obj().str("op", "fs.list").str("path", path);
    if (maxDepth > 0) o.num("max_depth", maxDepth);
    if (maxEntries > 0) o.num("max_entries", maxEntries);
    const r = call(o.toString());
    const l = new Listing();
    l.error = r.error;
    if (r.error !== null) return l;
    const es = r.result.get("entries");
    for (let i = 0; i < es.length; i++) {
      const e = es.at(i);
      l.entries.push(new Entry(e.get("path").str(), e.get("kind").str(), e.get("size").num()));
    }
    l.truncated = r.result.get("truncated").bool();
    return l;
  }
}

/** Options of model.generate; every field may stay at its default. */
export class GenerateOptions {
  /** A model name or alias; "" or "auto" lets the host pick for category. */
  model: string = "";
  /** `fast`, `balanced`, `extended`; "" means the tool's own. */
  category: string = "";
  system: string = "";
  /** NaN leaves it to the model's default. */
  temperature: f64 = NaN;
  /** `minimal`, `low`, `medium`, `high`, `max`, or "". */
  thinkingMode: string = "";
}

/** A model's answer from model.generate. */
export class Generation {
  error: HostError | null = null;
  content: string = "";
  model: string = "";
  provider: string = "";
  finishReason: string = "";
}

export namespace model {
  /** Asks a model (capability `model.generate`); the host holds the key and redacts the prompt. */
  export function generate(prompt: string, opts: GenerateOptions | null = null): Generation {
    const o = new Obj().str("op", "model.generate");
    if (opts !== null) {
      if (opts.model != "") o.str("model", opts.model);
      if (opts.category != "") o.str("category", opts.category);
      if (opts.system != "") o.str("system", opts.system);
      if (!isNaN(opts.temperature)) o.num("temperature", opts.temperature);
      if (opts.thinkingMode != "") o.str("thinking_mode", opts.thinkingMode);
    }
    const r = call(o.toString(), Uint8Array.wrap(String.UTF8.encode(prompt)));
    const g = new Generation();
    g.error = r.error;
    if (r.error !== null) return g;
    g.content = r.result.get("content").str();
    g.model = r.result.get("model").str();
    g.provider = r.result.get("provider").str();
    g.finishReason = r.result.get("finish_reason").str();
    return g;
  }
}

/**
 * The abort handler: route AssemblyScript's abort here with
 * `--use abort=<kit>/assembly/index/abort`, so the module needs no `env.abort` import. It logs
 * the message and traps; the host reports the call as crashed.
 */
export function abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let m = "abort";
  if (message !== null) m += ": " + message;
  if (fileName !== null) m += " at " + fileName + ":" + line.toString() + ":" + column.toString();
  log(3, m); // LOG_ERROR: abort may run before the module's globals are initialised
  unreachable();
}
