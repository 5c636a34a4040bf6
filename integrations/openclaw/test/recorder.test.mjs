// The plugin's delivery behaviour against a loopback server that a test can make
// slow, failing or absent: ordering, batching, conversation ids for exec
// children, never stalling the agent, fail-closed blocking, loss reports.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";

import plugin, { Recorder, registerHandlers, resolveConfig } from "../dist/index.js";
import { kForwardedHooks } from "../dist/mapping.js";
import { FakeHost, ScriptedServer, fixtureSessions, freePort, loadFixture } from "./harness.mjs";

// The hooks the gateway emitted that the plugin handles (the fixture also holds others).
const hooks = loadFixture().filter((h) => kForwardedHooks.includes(h.hook));
const keys = fixtureSessions(hooks);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function makePlugin(config) {
  const host = new FakeHost(config);
  const rec = new Recorder(resolveConfig(config, {}), host.logger);
  registerHandlers(host, rec);
  return { host, rec };
}

const servers = [];
async function server(mode) {
  const s = await ScriptedServer.start(mode);
  servers.push(s);
  return s;
}
after(async () => {
  for (const s of servers) await s.stop();
});

const cliSession = hooks.filter((h) => h.ctx.sessionKey === keys.cli);
const webhookSession = hooks.filter((h) => h.ctx.sessionKey === keys.webhook);

test("the default export is an OpenClaw plugin entry registering the forwarded hooks", () => {
  assert.equal(plugin.id, "clawback");
  assert.equal(typeof plugin.register, "function");
  const host = new FakeHost({ url: "http://127.0.0.1:9" });
  plugin.register(host);
  for (const h of ["session_start", "session_end", "before_tool_call", "after_tool_call", "agent_end", "message_received", "subagent_spawned", "resolve_exec_env", "gateway_stop"]) {
    assert.equal(host.handlers.get(h)?.length, 1, `${h} not registered once`);
  }
  assert.equal(host.handlers.get("before_tool_call")[0].opts.priority, -100);
});

test("config: plugin block first, then environment, with limits", () => {
  const dir = mkdtempSync(join(tmpdir(), "oc-cfg-"));
  try {
    writeFileSync(join(dir, "tok"), "file-token\n");
    assert.deepEqual(resolveConfig({}, {}), {
      url: "http://127.0.0.1:18800", token: "", timeoutMs: 1500, failClosed: false, flushMs: 25, retryMs: 2000, maxQueue: 1000,
    });
    const c = resolveConfig({ url: "http://h:1/", timeoutMs: 5, failClosed: "true" }, { CLAWBACK_TOKEN: "env-token" });
    assert.equal(c.url, "http://h:1");
    assert.equal(c.token, "env-token");
    assert.equal(c.timeoutMs, 50);
    assert.equal(c.failClosed, true);
    assert.equal(resolveConfig({ tokenFile: join(dir, "tok") }, {}).token, "file-token");
    assert.equal(resolveConfig({ token: "cfg" }, { CLAWBACK_TOKEN: "env" }).token, "cfg");
    assert.equal(resolveConfig({}, { CLAWBACK_URL: "http://x:2", CLAWBACK_FAIL_CLOSED: "1" }).url, "http://x:2");
    assert.equal(resolveConfig({}, { CLAWBACK_FAIL_CLOSED: "1" }).failClosed, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a recorded session is delivered in order, with auth, and exec children get its conversation id", async () => {
  const s = await server("ok");
  const { host, rec } = makePlugin({ url: s.url, token: "tok-123", flushMs: 5 });
  let execEnv;
  let call;
  for (const h of cliSession) {
    if (h.hook === "session_end" && h.event.reason === "reset") break;
    await host.call(h.hook, h.event, h.ctx);
    if (h.hook === "before_tool_call" && h.event.toolName === "exec") {
      call = h;
      execEnv = await host.call("resolve_exec_env", { sessionKey: h.ctx.sessionKey, toolName: "exec", host: "gateway" }, { sessionKey: h.ctx.sessionKey });
    }
  }
  await rec.flush(true);
  const sent = s.envelopes;
  // resolve_exec_env is only forwarded for a session without a conversation.
  const want = cliSession
    .slice(0, cliSession.findIndex((h) => h.hook === "session_end"))
    .map((h) => h.hook)
    .filter((h) => h !== "resolve_exec_env");
  assert.deepEqual(sent.map((e) => e.hook), want);
  for (const e of sent) assert.match(e.ts, /^\d{4}-\d\d-\d\dT/);
  assert.equal(sent.find((e) => e.hook === "agent_end").event.messages, undefined);
  // session_start's answer names the conversation the exec child belongs to.
  const convo = "019ac3b2-7c00-7abc-8def-000000000001";
  assert.equal(execEnv.CLAWBACK_CONVERSATION_ID, convo);
  assert.match(execEnv.TRACEPARENT, /^00-019ac3b27c007abc8def000000000001-[0-9a-f]{16}-01$/);
  assert.ok(call, "no exec call in the fixture's CLI session");
  assert.match(execEnv.OTEL_RESOURCE_ATTRIBUTES, new RegExp(`clawback.conversation.id=${convo}`));
  assert.equal(rec.stats.dropped, 0);
  assert.ok(rec.stats.requests < sent.length + 1);
});

test("a reset closes the conversation: exec never gets the closed conversation's id", async () => {
  const s = await server("ok");
  const { host, rec } = makePlugin({ url: s.url, flushMs: 0 });
  const key = keys.cli;
  const start = cliSession.find((h) => h.hook === "session_start");
  const end = cliSession.find((h) => h.hook === "session_end" && h.event.reason === "reset");
  const restart = cliSession.find((h) => h.event.resumedFrom);
  const env = async () => (await host.call("resolve_exec_env", { sessionKey: key, toolName: "exec", host: "gateway" }, { sessionKey: key }))?.CLAWBACK_CONVERSATION_ID;
  await host.call("session_start", start.event, start.ctx);
  const first = await env();
  assert.ok(first);
  await host.call("session_end", end.event, end.ctx);
  assert.equal(rec.conversationFor(key), undefined);
  // An exec between the end and a new start announces the session again (a new conversation).
  const between = await env();
  assert.ok(between && between !== first);
  await host.call("session_start", restart.event, restart.ctx);
  const second = await env();
  assert.ok(second && second !== first);
  assert.equal(rec.conversationFor(key), second);
  assert.deepEqual(s.envelopes.map((e) => e.hook), ["session_start", "session_end", "resolve_exec_env", "session_start"]);
});

test("a webhook turn (no session_start) learns its conversation before exec runs", async () => {
  // OpenClaw resolves the exec env first, then calls before_tool_call.
  const s = await server("ok");
  const { host } = makePlugin({ url: s.url, flushMs: 1000 });
  const before = webhookSession.find((h) => h.hook === "before_tool_call");
  const ctx = { agentId: before.ctx.agentId, sessionKey: before.ctx.sessionKey, sessionId: before.ctx.sessionId };
  const env = await host.call("resolve_exec_env", { sessionKey: ctx.sessionKey, toolName: "exec", host: "gateway" }, ctx);
  assert.equal(env.CLAWBACK_CONVERSATION_ID, "019ac3b2-7c00-7abc-8def-000000000001");
  assert.equal(s.envelopes[0].hook, "resolve_exec_env");
  assert.equal(s.envelopes[0].ctx.sessionKey, ctx.sessionKey);
  // Known now: neither the next env nor the tool call waits for clawback.
  const again = await host.timed("resolve_exec_env", { sessionKey: ctx.sessionKey, toolName: "exec", host: "gateway" }, ctx);
  assert.equal(again.result.CLAWBACK_CONVERSATION_ID, env.CLAWBACK_CONVERSATION_ID);
  assert.notEqual(again.result.TRACEPARENT, env.TRACEPARENT, "a fresh span per command");
  assert.equal(s.envelopes.length, 1);
  const t = await host.timed("before_tool_call", before.event, before.ctx);
  assert.ok(t.ms < 300, `before_tool_call waited ${t.ms} ms`);
});

test("clawback down: no hook waits, nothing throws, the loss is reported on the next contact", async () => {
  const port = await freePort(); // nothing listens here
  const { host, rec } = makePlugin({ url: `http://127.0.0.1:${port}`, timeoutMs: 5000, retryMs: 0 });
  for (const h of hooks) {
    const { result, ms } = await host.timed(h.hook, h.event, h.ctx);
    assert.equal(result, undefined, `${h.hook} changed the agent's course`);
    assert.ok(ms < 1000, `${h.hook} stalled ${ms.toFixed(0)} ms`);
  }
  await rec.flush(true);
  assert.equal(rec.stats.delivered, 0);
  assert.equal(rec.stats.dropped, hooks.length);
  assert.ok(host.logs.some((l) => l.startsWith("warn: clawback:") && l.includes("unreachable")));
  assert.equal(host.logs.filter((l) => l.startsWith("warn:")).length, 1, "one warning per outage");
  // Back up: the first delivery carries the count of what was lost.
  const s = await server("ok");
  rec.config.url = s.url;
  const start = cliSession.find((h) => h.hook === "session_start");
  await host.call("session_start", start.event, start.ctx);
  assert.equal(s.envelopes[0].hook, "session_start");
  const g = s.envelopes[1];
  assert.equal(g.hook, "plugin.delivery_gap");
  assert.equal(g.event.dropped, hooks.length);
  assert.equal(g.event.hooks.before_tool_call, hooks.filter((h) => h.hook === "before_tool_call").length);
  assert.ok(g.event.sessionKeys.includes(keys.cli));
  assert.match(g.event.reason, /unreachable/);
  assert.equal(g.ctx.sessionKey, start.ctx.sessionKey);
  assert.ok(host.logs.some((l) => l.includes("reported") && l.includes("lost")));
  // Reported once only.
  await host.call("session_end", cliSession.find((h) => h.hook === "session_end").event, start.ctx);
  assert.equal(s.envelopes.filter((e) => e.hook === "plugin.delivery_gap").length, 1);
});

test("clawback hanging: the agent waits at most timeoutMs once, then not at all while paused", async () => {
  const s = await server("hang");
  const { host, rec } = makePlugin({ url: s.url, timeoutMs: 1000, retryMs: 60000 });
  const before = webhookSession.find((h) => h.hook === "before_tool_call");
  const first = await host.timed("before_tool_call", before.event, before.ctx);
  assert.equal(first.result, undefined);
  assert.ok(first.ms >= 950 && first.ms < 3000, `first wait ${first.ms}`);
  await sleep(150); // the hung request times out and pauses delivery
  assert.ok(rec.paused);
  const again = await host.timed("before_tool_call", before.event, before.ctx);
  assert.ok(again.ms < 300, `waited ${again.ms} ms while clawback was known down`);
  const env = await host.timed("resolve_exec_env", { sessionKey: before.ctx.sessionKey, toolName: "exec", host: "gateway" }, before.ctx);
  assert.equal(env.result, undefined);
  assert.ok(env.ms < 300);
  const start = cliSession.find((h) => h.hook === "session_start");
  const st = await host.timed("session_start", start.event, start.ctx);
  assert.ok(st.ms < 300, `session_start waited ${st.ms} ms while clawback was known down`);
  assert.equal(rec.queued, 2, "events are held while paused");
});

test("fail closed: a tool call clawback cannot record is blocked with a clear reason", async () => {
  const port = await freePort();
  const { host } = makePlugin({ url: `http://127.0.0.1:${port}`, failClosed: true, timeoutMs: 5000, retryMs: 60000 });
  const before = cliSession.find((h) => h.hook === "before_tool_call");
  for (let i = 0; i < 2; i++) {
    const { result, ms } = await host.timed("before_tool_call", before.event, before.ctx);
    assert.equal(result.block, true);
    assert.match(result.blockReason, /clawback could not record this tool call/);
    assert.match(result.blockReason, /failClosed/);
    assert.match(result.blockReason, /unreachable/);
    assert.ok(ms < 2000, `fail-closed decision took ${ms} ms`);
  }
  // Observation hooks still never throw or wait.
  const { ms } = await host.timed("after_tool_call", cliSession.find((h) => h.hook === "after_tool_call").event, before.ctx);
  assert.ok(ms < 300);
});

test("fail closed with clawback up: the tool call runs, recorded before it does", async () => {
  const s = await server("ok");
  const { host } = makePlugin({ url: s.url, failClosed: true, flushMs: 1000 });
  const before = cliSession.find((h) => h.hook === "before_tool_call");
  const r = await host.call("before_tool_call", before.event, before.ctx);
  assert.equal(r, undefined);
  assert.equal(s.envelopes.at(-1).event.toolCallId, before.event.toolCallId);
});

test("fail closed and clawback hanging: blocked after timeoutMs", async () => {
  const s = await server("hang");
  const { host } = makePlugin({ url: s.url, failClosed: true, timeoutMs: 200 });
  const before = cliSession.find((h) => h.hook === "before_tool_call");
  const { result, ms } = await host.timed("before_tool_call", before.event, before.ctx);
  assert.equal(result.block, true);
  assert.match(result.blockReason, /200 ms/);
  assert.ok(ms >= 190 && ms < 2000, `${ms}`);
});

test("a rejected batch (HTTP 400) is dropped alone; the next one is sent at once", async () => {
  const s = await server("400");
  const { host, rec } = makePlugin({ url: s.url, flushMs: 0, retryMs: 60000 });
  const before = webhookSession.find((h) => h.hook === "before_tool_call");
  await host.call("before_tool_call", before.event, before.ctx);
  await rec.flush(true);
  assert.ok(!rec.paused);
  assert.ok(host.logs.some((l) => l.includes("rejected") && l.includes("scripted 400")));
  s.mode = "ok";
  await host.call("before_tool_call", before.event, before.ctx);
  await rec.flush(true);
  assert.equal(s.envelopes.at(-1).hook, "before_tool_call");
  assert.equal(s.envelopes.at(-2).hook, "plugin.delivery_gap");
  assert.match(s.envelopes.at(-2).event.reason, /HTTP 400/);
});

test("server errors (HTTP 500, 401) pause delivery and count the loss", async () => {
  for (const mode of ["500", "401"]) {
    const s = await server(mode);
    const { host, rec } = makePlugin({ url: s.url, flushMs: 0, retryMs: 60000 });
    const start = cliSession.find((h) => h.hook === "session_start");
    await host.call("session_start", start.event, start.ctx);
    assert.ok(rec.paused, `${mode} did not pause`);
    assert.equal(rec.stats.dropped, 1);
  }
});

test("while paused the queue is bounded; overflow is counted, order kept", async () => {
  const s = await server("500");
  const { host, rec } = makePlugin({ url: s.url, flushMs: 0, retryMs: 200, maxQueue: 5 });
  const after = webhookSession.find((h) => h.hook === "after_tool_call");
  await host.call("after_tool_call", after.event, after.ctx);
  await rec.flush(true);
  assert.ok(rec.paused);
  for (let i = 0; i < 8; i++) await host.call("after_tool_call", { ...after.event, toolCallId: `c${i}` }, after.ctx);
  assert.equal(rec.queued, 5);
  assert.equal(rec.stats.dropped, 1 + 3);
  s.mode = "ok";
  await sleep(300);
  await rec.flush();
  const got = s.envelopes.filter((e) => e.hook === "after_tool_call" && e.event.toolCallId?.startsWith("c"));
  assert.deepEqual(got.slice(-5).map((e) => e.event.toolCallId), ["c3", "c4", "c5", "c6", "c7"]);
  assert.equal(s.envelopes.find((e) => e.hook === "plugin.delivery_gap").event.dropped, 4);
});

test("many sessions interleaved: each batch names one session", async () => {
  const s = await server("ok");
  const { host, rec } = makePlugin({ url: s.url, flushMs: 20 });
  const before = webhookSession.find((h) => h.hook === "after_tool_call");
  for (let i = 0; i < 30; i++) {
    const k = `agent:main:s${i % 3}`;
    await host.call("after_tool_call", { ...before.event, toolCallId: `t${i}` }, { ...before.ctx, sessionKey: k });
  }
  await rec.flush(true);
  for (const b of s.bodies) {
    const list = Array.isArray(b) ? b : [b];
    assert.equal(new Set(list.map((e) => e.ctx.sessionKey)).size, 1);
  }
  assert.deepEqual(s.envelopes.map((e) => e.event.toolCallId), Array.from({ length: 30 }, (_, i) => `t${i}`));
});
