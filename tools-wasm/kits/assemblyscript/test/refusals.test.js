// The kit's own test (`node --test test/` here; `make test-examples` runs it): the fake host
// answers every request of tools-wasm/testdata/refusals.json, the real host's replies written
// by TestFakeAndRealHostRefuseAlike, with the same code and message.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { FakeHost } from "../fakehost.js";

const table = JSON.parse(fs.readFileSync(new URL("../../../testdata/refusals.json", import.meta.url), "utf8"));

test("refuses as the real host does", () => {
  const host = new FakeHost({
    files: Object.fromEntries(table.files.map((f) => [f.path, f.content])),
    grant: table.grant,
    roots: table.roots,
    deny: table.deny,
    maxFileBytes: table.max_file_bytes,
  });
  assert.ok(table.cases.length >= 20, `${table.cases.length} cases`);
  for (const c of table.cases) {
    const msg = c.body === undefined ? c.request : `${c.request}\0${c.body}`;
    const reply = JSON.parse(new TextDecoder().decode(host.serve(msg, table.tool)));
    assert.deepEqual(reply.error, { code: c.code, message: c.message }, c.name);
  }
});

test("serves what the policy allows", () => {
  const host = new FakeHost({ files: { "/w/a.txt": "hello", "/w/.env": "K=1", "/w/s/b.txt": "b" }, grant: ["fs.read", "fs.list"], roots: ["/w"], deny: [".env*"], maxFileBytes: 3 });
  const read = new TextDecoder().decode(host.serve(`{"op":"fs.read","path":"/w/./a.txt","max_bytes":2}`));
  assert.equal(read, `{"result":{"path":"/w/a.txt","size":5,"modified":"2026-01-01T00:00:00Z","truncated":true}}\0he`);
  const list = JSON.parse(new TextDecoder().decode(host.serve(`{"op":"fs.list","path":"/w"}`)));
  assert.deepEqual(list.result.entries.map((e) => e.path), ["/w/a.txt", "/w/s/b.txt"]);
  const env = JSON.parse(new TextDecoder().decode(host.serve(`{"op":"fs.read","path":"/w/S/../.ENV"}`)));
  assert.deepEqual(env.error, { code: "denied", message: `"/w/S/../.ENV" matches deny rule ".env*"` });
});
