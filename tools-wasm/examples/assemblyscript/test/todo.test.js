// Tests todo_finder under the kit's fake host, with no pal server: `npm test`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { FakeHost } from "@pal-mcp/as-kit/fakehost";

// PAL_WASM names the module (make test-examples sets it); npm test builds build/todo.wasm.
const wasm = readFileSync(process.env.PAL_WASM ?? new URL("../build/todo.wasm", import.meta.url));
const files = {
  "/w/src/a.ts": "let x = 1;\n// TODO: handle the empty case\n",
  "/w/src/b.go": "package b\n// FIXME: leaks a file handle\n",
  "/w/README.md": "nothing to do here\n",
  "/w/.env": "SECRET=1 // TODO never read\n",
};

test("manifest", async () => {
  const host = new FakeHost();
  const m = await host.load(wasm);
  assert.equal(m.tools[0].name, "todo_finder");
  assert.deepEqual(m.tools[0].capabilities, ["fs.list", "fs.read", "model.generate", "progress"]);
});

test("finds TODOs and asks the model", async () => {
  let prompt = "";
  const host = new FakeHost({ files, deny: ["/w/.env"], grant: ["fs.list", "fs.read", "model.generate", "progress"], model: (p) => ((prompt = p), "two items") });
  await host.load(wasm);
  const { result, text } = host.call("todo_finder", { path: "/w" });
  assert.equal(result.isError, false, text);
  assert.match(text, /Read 3 files, skipped 0, found 2 TODO lines/);
  assert.match(text, /two items/);
  assert.match(prompt, /\/w\/src\/a.ts:2: \/\/ TODO: handle the empty case/);
  assert.match(prompt, /\/w\/src\/b.go:2: \/\/ FIXME: leaks a file handle/);
  assert.doesNotMatch(prompt, /SECRET/);
  assert.deepEqual(result.structuredContent.files_read, 3);
});

test("a capability not granted is refused with the host's text", async () => {
  const host = new FakeHost({ files, grant: ["fs.list", "fs.read"] });
  await host.load(wasm);
  const { result, text, ops } = host.call("todo_finder", { path: "/w" });
  assert.equal(result.isError, true);
  assert.match(text, /model.generate refused: not_granted: tool "todo_finder" has no "model.generate" capability in this call \(granted: \{fs.read,fs.list\}\)/);
  assert.ok(ops.some((o) => o.op === "model.generate" && o.code === "not_granted"));
});

test("fs.list refused", async () => {
  const host = new FakeHost({ files, grant: [] });
  await host.load(wasm);
  const { result, text } = host.call("todo_finder", { path: "/w" });
  assert.equal(result.isError, true);
  assert.match(text, /fs.list \/w refused: not_granted/);
});
