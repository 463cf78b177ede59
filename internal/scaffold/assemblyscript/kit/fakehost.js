// A fake pal host for testing a tool module under node, with no server: it loads the .wasm,
// reads its manifest through `describe`, and runs calls through `handle`, answering the
// module's host calls from an in-memory file tree and a scripted model. Refusals use the
// real host's codes and texts (docs/abi.md), so a test that passes here sees the same
// errors under pal.
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
// Ops implemented: fs.read, fs.list, model.generate, progress, host.info. Any other op is
// answered `unknown_op` with a message saying the fake host lacks it.

const KNOWN = ["fs.read", "fs.list", "model.generate", "model.list", "thread.read", "thread.write", "progress", "host.info", "git.read", "cli.run"];
const CAP_OF = { "fs.read": "fs.read", "fs.list": "fs.list", "model.generate": "model.generate", "model.resolve": "model.generate", progress: "progress", "host.info": "host.info" };

const enc = new TextEncoder();
const dec = new TextDecoder();

export class FakeHost {
  /**
   * files: absolute path -> contents (string or Uint8Array); directories are implied.
   * grant: capabilities pal.toml grants the tool (intersected with the manifest's).
   * model: (prompt, request) -> reply text, or throws to fail with `upstream`.
   * deny: absolute paths refused as the policy would refuse them.
   */
  constructor({ files = {}, grant = [], model = () => "ok", deny = [] } = {}) {
    this.files = new Map(Object.entries(files).map(([p, c]) => [p, typeof c === "string" ? enc.encode(c) : c]));
    this.grantList = grant;
    this.model = model;
    this.deny = new Set(deny);
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
    const head = JSON.parse(dec.decode(zero < 0 ? msg : msg.subarray(0, zero)));
    const body = zero < 0 ? null : msg.subarray(zero + 1);
    const cur = this.current;
    const fail = (code, message) => {
      cur.ops.push({ op: head.op, request: head, code });
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
    const cap = CAP_OF[head.op];
    if (!cap) return fail("unknown_op", `the fake host does not implement ${JSON.stringify(head.op)}`);
    if (!cur.grant.includes(cap)) {
      return fail("not_granted", `tool ${JSON.stringify(cur.tool)} has no ${JSON.stringify(cap)} capability in this call (granted: {${cur.grant.join(",")}})`);
    }
    const path = head.path;
    if (path !== undefined) {
      if (!path.startsWith("/")) return fail("invalid", `${JSON.stringify(path)} is not an absolute path`);
      if (this.deny.has(path)) return fail("denied", `${JSON.stringify(path)} matches a deny rule`);
    }
    switch (head.op) {
      case "fs.read": {
        const data = this.files.get(path);
        if (data === undefined) {
          if (this.#isDir(path)) return fail("invalid", `${JSON.stringify(path)} is a directory`);
          return fail("not_found", `${JSON.stringify(path)} does not exist`);
        }
        const max = head.max_bytes || 1000000;
        return ok({ path, size: data.length, modified: "2026-01-01T00:00:00Z", truncated: data.length > max }, data.subarray(0, max));
      }
      case "fs.list": {
        if (!this.#isDir(path)) return fail("not_found", `${JSON.stringify(path)} does not exist`);
        const prefix = path.endsWith("/") ? path : path + "/";
        const entries = [...this.files.keys()]
          .filter((p) => p.startsWith(prefix) && !this.deny.has(p))
          .sort()
          .map((p) => ({ path: p, kind: "file", size: this.files.get(p).length }));
        return ok({ path, entries, truncated: false });
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

  #isDir(path) {
    const prefix = path.endsWith("/") ? path : path + "/";
    for (const p of this.files.keys()) if (p.startsWith(prefix)) return true;
    return false;
  }
}
