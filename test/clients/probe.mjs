// probe.mjs drives a pal binary with the official TypeScript SDK client over stdio, as a
// user's client would, and prints what it saw as one JSON object on stdout:
//
//   node probe.mjs PAL_BINARY [TOOL [ARGS_JSON]]
//
// It lists the tools, sets the log level to "debug", calls TOOL (default "chat") with a progress
// callback (resetTimeoutOnProgress, as clients do for long calls) and records the log messages
// pal sends. The environment of the server is the SDK's default (HOME LOGNAME PATH SHELL TERM
// USER) plus every PAL_PROBE_ENV_<NAME> variable of this process, passed as NAME. The server's
// working directory is this process's. test/e2e (TestNPMClients) runs it and checks the output.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";

const [bin, tool = "chat", argsJSON = '{"prompt":"hello from the TypeScript SDK"}'] = process.argv.slice(2);
const env = { ...getDefaultEnvironment() };
for (const [k, v] of Object.entries(process.env)) {
  if (k.startsWith("PAL_PROBE_ENV_")) env[k.slice("PAL_PROBE_ENV_".length)] = v;
}
const out = { tools: [], logs: [], progress: [], lateProgress: 0, errors: [] };
const transport = new StdioClientTransport({ command: bin, args: ["serve"], env, cwd: process.cwd(), stderr: "ignore" });
const client = new Client({ name: "pal-probe-ts", version: "1.0.0" });
client.onerror = (e) => {
  // The SDK handles notifications a microtask after responses: progress that arrives with the
  // result is reported here instead of to the callback.
  if (/unknown token/i.test(String(e))) out.lateProgress++;
  else out.errors.push(String(e));
};
client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
  out.logs.push({ level: n.params.level, logger: n.params.logger, data: n.params.data });
});
try {
  await client.connect(transport);
  out.server = client.getServerVersion();
  out.capabilities = client.getServerCapabilities();
  await client.setLoggingLevel("debug");
  out.tools = (await client.listTools()).tools.map((t) => t.name);
  const res = await client.callTool({ name: tool, arguments: JSON.parse(argsJSON) }, undefined, {
    onprogress: (p) => out.progress.push(p),
    resetTimeoutOnProgress: true,
    timeout: 120000,
  });
  out.isError = res.isError === true;
  out.text = (res.content || []).filter((c) => c.type === "text").map((c) => c.text).join("");
} catch (e) {
  out.thrown = String(e);
} finally {
  await client.close().catch(() => {});
}
process.stdout.write(JSON.stringify(out) + "\n");
