// A fake pal host for testing a tool module under node, with no server: it loads the .wasm,
// reads its manifest through `describe`, and runs calls through `handle`, answering the
// module's host calls from an in-memory file tree and a scripted model. Refusals use the
// real host's codes and texts (docs/abi.md), so a test that passes here sees the same
// errors under pal: the kit's test/refusals.test.js checks each one against the real host's
// replies in tools-wasm/testdata/refusals.json. Not simulated: a fractional number for an
// integer field, the types of array elements, deny rules of more than one component,
// symlinks, the per-call byte budget.
//
//   import { FakeHost } from "@pal-mcp/as-kit/fakehost";
//   const host = new FakeHost({
//     files: { "/w/a.ts": "// TODO: x" },
//     grant: ["fs.list", "fs.read", "model.generate"],
//     model: (prompt, req) => "a summary",
//   });
//   await host.load(fs.readFileSync("build/todo.wasm"));
//   const { result, ops } = host.call("todo_finder", { path: "/w" });
//
// Ops implemented: fs.read, fs.list, model.generate, model.resolve, progress, host.info. Any
// other op of ABI 1 is checked against the grant, then answered `unknown_op` with a message
// saying the fake host lacks it.

// Every capability of ABI 1, in the host's order (the order of "granted: {…}").
const KNOWN = ["fs.read", "fs.list", "model.generate", "model.list", "thread.read", "thread.write", "progress", "host.info", "git.read", "cli.run"];
// Every op of ABI 1 and the capability it needs.
const CAP_OF = {
  "fs.read": "fs.read", "fs.list": "fs.list", "model.resolve": "model.generate", "model.generate": "model.generate",
  "model.list": "model.list", "thread.create": "thread.write", "thread.read": "thread.read", "thread.append": "thread.write",
  progress: "progress", "host.info": "host.info", "git.status": "git.read", "git.diff": "git.read", "git.log": "git.read",
  "cli.list": "cli.run", "cli.run": "cli.run",
};
// The request fields of each implemented op and their types as pal's Go structs name them
// (runtime/abi/ops.go).
const FIELDS = {
  "fs.read": { op: "string", path: "string", max_bytes: "int64" },
  "fs.list": { op: "string", path: "string", max_depth: "int", max_entries: "int" },
  "model.generate": { op: "string", model: "string", category: "string", system: "string", temperature: "float64", thinking_mode: "string", images: "[]string" },
  "model.resolve": { op: "string", model: "string", category: "string" },
  progress: { op: "string", progress: "float64", total: "float64", message: "string" },
  "host.info": { op: "string" },
};
const DEFAULT_MAX_FILE_BYTES = 1000000;

const enc = new TextEncoder();
const dec = new TextDecoder();

export class FakeHost {
  /**
   * files: absolute path -> contents (string or Uint8Array); directories are implied.
   * grant: capabilities pal.toml grants the tool (intersected with the manifest's).
   * model: (prompt, request) -> reply text, or throws to fail with `upstream`.
   * roots: allowed roots; once there is one, a path outside every root is `denied`.
   * deny: deny rules: a glob (`*` any run, `?` one character) refuses a path any of whose
   *   components it matches, ignoring case, as pal's deny rules do (".env*", "*.pem"); an
   *   entry starting with "/" refuses that path and the tree under it.
   * maxFileBytes: fs.read's per-file cap in bytes ([paths] max_file_bytes), default 1,000,000.
   */
  constructor({ files = {}, grant = [], model = () => "ok", deny = [], roots = [], maxFileBytes = DEFAULT_MAX_FILE_BYTES } = {}) {
    this.files = new Map(Object.entries(files).map(([p, c]) => [p, typeof c === "string" ? enc.encode(c) : c]));
    this.grantList = grant;
    this.model = model;
    this.deny = deny;
    this.roots = roots.map((r) => r.replace(/\/+$/, ""));
    this.maxFileBytes = maxFileBytes;
  }

  /**
   * Answers one request message (a string or bytes: a JSON header, optionally 0x00 and a
   * body) as during a call of tool granted `grant`, with no module: for testing the fake host
   * itself. Returns the reply message's bytes.
   */
  serve(message, tool = "probe") {
    const saved = this.current;
    this.current = { tool, grant: KNOWN.filter((c) => this.grantList.includes(c)), ops: [], logs: [] };
    try {
      return this.#serve(typeof message === "string" ? enc.encode(message) : message);
    } finally {
      this.current = saved;
    }
  }

  /** Instantiates the module and reads its manifest. */
  async load(wasm) {
    this.module = await WebAssembly.compile(wasm);
    const imports = WebAssembly.Module.imports(this.module);
    for (const imp of imports) {
      if (imp.module !== "pal") throw new Error(`imports ${imp.module}.${imp.name}: only the "pal" module is provided`);
    }
    const inst = await this.#instantiate();
    this.manifest = JSON.parse(dec.decode(this.#read(inst, inst.exports.describe())));
    if (this.manifest.abi !== 1) throw new Error(`manifest abi ${this.manifest.abi}, want 1`);
    return this.manifest;
  }

  /**
   * Runs one call in a fresh instance, as pal does. Returns the CallToolResult, the ops the
   * tool asked for ({op, request, code}, code "" when allowed) and its log lines.
   */
  call(tool, args) {
    const spec = this.manifest.tools.find((t) => t.name === tool);
    if (!spec) throw new Error(`no tool ${tool}`);
    this.current = { tool, grant: KNOWN.filter((c) => spec.capabilities.includes(c) && this.grantList.includes(c)), ops: [], logs: [] };
    const inst = this.#instantiateSync();
    const req = enc.encode(JSON.stringify({ abi: 1, tool, call_id: "c1", arguments: args }));
    const p = this.#write(inst, req);
    const result = JSON.parse(dec.decode(this.#read(inst, inst.exports.handle(p, req.length))));
    const { ops, logs } = this.current;
    this.current = null;
    return { result, text: result.content.map((c) => c.text ?? "").join(""), ops, logs };
  }

  #imports(box) {
    return {
      pal: {
        call: (ptr, len) => {
          const inst = box.inst;
          const msg = new Uint8Array(inst.exports.memory.buffer, ptr, len).slice();
          return this.#write(inst, this.#serve(msg), true);
        },
        log: (level, ptr, len) => {
          const inst = box.inst;
          const line = dec.decode(new Uint8Array(inst.exports.memory.buffer, ptr, len));
          if (this.current) this.current.logs.push({ level, line });
        },
      },
    };
  }

  async #instantiate() {
    const box = {};
    box.inst = await WebAssembly.instantiate(this.module, this.#imports(box));
    return box.inst;
  }

  #instantiateSync() {
    const box = {};
    box.inst = new WebAssembly.Instance(this.module, this.#imports(box));
    return box.inst;
  }

  #read(inst, packed) {
    const p = Number(BigInt.asUintN(64, packed) >> 32n);
    const n = Number(BigInt.asUintN(64, packed) & 0xffffffffn);
    return new Uint8Array(inst.exports.memory.buffer, p, n).slice();
  }

  #write(inst, bytes, packed = false) {
    const p = inst.exports.alloc(bytes.length);
    if (p === 0) return packed ? 0n : 0;
    new Uint8Array(inst.exports.memory.buffer, p, bytes.length).set(bytes);
    return packed ? (BigInt(p) << 32n) | BigInt(bytes.length) : p;
  }

  #serve(msg) {
    const zero = msg.indexOf(0);
    const text = dec.decode(zero < 0 ? msg : msg.subarray(0, zero));
    const body = zero < 0 ? null : msg.subarray(zero + 1);
    const cur = this.current;
    let head = null;
    const fail = (code, message) => {
      cur.ops.push({ op: head?.op ?? "", request: head, code });
      return enc.encode(JSON.stringify({ error: { code, message } }));
    };
    const ok = (result, out) => {
      cur.ops.push({ op: head.op, request: head, code: "" });
      const h = enc.encode(JSON.stringify({ result }));
      if (!out) return h;
      const all = new Uint8Array(h.length + 1 + out.length);
      all.set(h);
      all.set(out, h.length + 1);
      return all;
    };
    try {
      head = JSON.parse(text);
    } catch {
      head = null;
    }
    if (!/^\s*\{/.test(text) || head === null) return fail("invalid", "request is not a JSON object message");
    const op = head.op;
    if (typeof op !== "string" || op === "") return fail("invalid", `request has no "op"`);
    const cap = CAP_OF[op];
    if (!cap) return fail("unknown_op", `unknown op ${q(op)} in ABI 1`);
    if (!cur.grant.includes(cap)) {
      return fail("not_granted", `tool ${q(cur.tool)} has no ${q(cap)} capability in this call (granted: {${cur.grant.join(",")}})`);
    }
    if (body && op !== "model.generate" && op !== "cli.run") return fail("invalid", `op ${q(op)} takes no body`);
    const fields = FIELDS[op];
    if (!fields) return fail("unknown_op", `the fake host does not implement ${q(op)}`);
    const bad = badRequest(head, fields);
    if (bad) return fail("invalid", bad);
    const given = head.path ?? "";
    const path = clean(given);
    if (op === "fs.read" || op === "fs.list") {
      if (given === "") return fail("invalid", `${op} needs a path`);
      if (!given.startsWith("/")) return fail("denied", `${q(given)} is not an absolute path`);
      if (this.roots.length && !this.roots.some((r) => under(path, r))) return fail("denied", `${q(given)} is outside every allowed root`);
      const rule = this.#denyRule(path);
      if (rule !== undefined) return fail("denied", `${q(given)} matches deny rule ${q(rule)}`);
    }
    switch (op) {
      case "fs.read": {
        const data = this.files.get(path);
        if (data === undefined) {
          if (this.#isDir(path)) return fail("invalid", `${q(given)} is a directory`);
          return fail("not_found", `${q(given)} does not exist`);
        }
        const cap = this.maxFileBytes, asked = head.max_bytes || 0;
        if (asked === 0 && data.length > cap) return fail("too_large", `${q(given)} is ${data.length} bytes, over the ${cap}-byte cap`);
        const max = asked === 0 ? cap : Math.min(asked, cap);
        return ok({ path, size: data.length, modified: "2026-01-01T00:00:00Z", truncated: data.length > max }, data.subarray(0, max));
      }
      case "fs.list": {
        if (this.files.has(path)) return fail("invalid", `${q(given)} is not a directory`);
        if (!this.#isDir(path)) return fail("not_found", `${q(given)} does not exist`);
        const prefix = path.endsWith("/") ? path : path + "/";
        const entries = [...this.files.keys()]
          .filter((p) => p.startsWith(prefix) && this.#denyRule(p) === undefined)
          .sort()
          .map((p) => ({ path: p, kind: "file", size: this.files.get(p).length }));
        return ok({ path: given, entries, truncated: false });
      }
      case "model.generate": {
        if (!body) return fail("invalid", "model.generate needs the prompt as the message body");
        let content;
        try {
          content = this.model(dec.decode(body), head);
        } catch (e) {
          return fail("upstream", String(e.message ?? e));
        }
        const model = head.model && head.model !== "auto" ? head.model : "fake-model";
        return ok({ content, model, provider: "fake", finish_reason: "stop", usage: { input_tokens: 0, output_tokens: 0, total_tokens: 0 } });
      }
      case "model.resolve":
        return ok({ model: head.model && head.model !== "auto" ? head.model : "fake-model", provider: "fake" });
      case "progress":
        return ok({});
      case "host.info":
        return ok({ name: "pal-fakehost", version: "0", abi: 1 });
    }
  }

  // The deny entry that refuses a clean path, or undefined.
  #denyRule(path) {
    const parts = path.split("/").filter(Boolean);
    return this.deny.find((d) => (d.startsWith("/") ? under(path, d.replace(/\/+$/, "")) : parts.some((c) => glob(d, c))));
  }

  #isDir(path) {
    const prefix = path.endsWith("/") ? path : path + "/";
    for (const p of this.files.keys()) if (p.startsWith(prefix)) return true;
    return false;
  }
}

// q quotes a string as Go's %q does for the texts pal writes (JSON's quoting, which agrees for
// printable text).
const q = (s) => JSON.stringify(s);

// clean cleans an absolute path as Go's path.Clean does: no ".", ".." or empty components.
function clean(path) {
  const out = [];
  for (const c of path.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") out.pop();
    else out.push(c);
  }
  return "/" + out.join("/");
}

// under reports whether path is dir or inside it.
const under = (path, dir) => dir === "" || path === dir || path.startsWith(dir + "/");

// glob matches name against pattern (`*` any run, `?` one character), ignoring case.
function glob(pattern, name) {
  const re = pattern.toLowerCase().replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${re}$`, "s").test(name.toLowerCase());
}

// badRequest decodes a request header as pal does (encoding/json, unknown fields disallowed):
// the first member, in order, with an unknown name or a value of the wrong kind is the error,
// worded as runtime/abi's RefuseBadRequest words it; null fits any field.
function badRequest(head, fields) {
  for (const [k, v] of Object.entries(head)) {
    const type = fields[k];
    if (type === undefined) return `bad request: json: unknown field ${q(k)}`;
    if (v === null) continue;
    const kind = Array.isArray(v) ? "array" : typeof v === "object" ? "object" : typeof v === "boolean" ? "bool" : typeof v;
    const fits = type === "string" ? kind === "string" : type === "[]string" ? kind === "array" : kind === "number";
    if (!fits) return `bad request: field ${q(k)} must be ${type}, not ${kind}`;
  }
  return "";
}
