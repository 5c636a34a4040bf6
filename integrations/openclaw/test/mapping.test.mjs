// Fast unit tests of the hook -> envelope mapping, on hook events recorded from a
// real OpenClaw 2026.9.6 gateway (tests/fixtures/openclaw/hooks.jsonl).
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import {
  kForwardedHooks,
  mapContext,
  sessionKeyOf,
  splitBatches,
  summarizeTranscript,
  toEnvelope,
  toJsonSafe,
  traceparentFor,
} from "../dist/mapping.js";
import { kRepoRoot, loadFixture } from "./harness.mjs";

const hooks = loadFixture();
const byHook = (name) => hooks.filter((h) => h.hook === name);

test("the fixture holds every hook the plugin maps", () => {
  for (const h of ["session_start", "session_end", "before_tool_call", "after_tool_call", "agent_end"]) {
    assert.ok(byHook(h).length > 0, `fixture lacks ${h}`);
    assert.ok(kForwardedHooks.includes(h));
  }
});

test("agent_end keeps counts and ids, never the transcript text", () => {
  let promptsChecked = 0;
  for (const h of byHook("agent_end")) {
    const env = toEnvelope(h.hook, h.event, h.ctx);
    const json = JSON.stringify(env);
    assert.equal(env.event.messages, undefined);
    assert.equal(env.event.transcript.messageCount, h.event.messages.length);
    assert.equal(env.event.runId, h.event.runId);
    assert.equal(env.event.success, h.event.success);
    const ids = h.event.messages.flatMap((m) =>
      Array.isArray(m.content) ? m.content.filter((p) => p.type === "toolCall").map((p) => p.id) : [],
    );
    assert.ok(ids.length > 0);
    assert.deepEqual(env.event.transcript.toolCalls.map((c) => c.id), ids);
    // The user prompt (with OpenClaw's preamble) is not in what is sent.
    const user = h.event.messages.find((m) => m.role === "user");
    const userText = (typeof user.content === "string" ? user.content : user.content.map((p) => p.text ?? "").join("")).trim();
    if (userText.length >= 20) {
      assert.ok(!json.includes(userText.slice(0, 40)), "user text leaked into agent_end");
      promptsChecked++;
    }
    assert.ok(json.length < JSON.stringify(h).length / 2, "agent_end was not trimmed");
    assert.equal(env.ctx.trace.traceId, h.ctx.trace.traceId);
  }
  assert.ok(promptsChecked > 0, "no agent_end prompt to check");
});

test("tool hooks keep ids, params and the exec result; live objects are dropped", () => {
  const before = byHook("before_tool_call")[0];
  const after = byHook("after_tool_call")[0];
  const b = toEnvelope(before.hook, { ...before.event }, { ...before.ctx, abortSignal: new AbortController().signal, getSessionExtension: () => 1 });
  assert.equal(b.event.toolCallId, before.event.toolCallId);
  assert.deepEqual(b.event.params, before.event.params);
  assert.equal(b.ctx.abortSignal, undefined);
  assert.equal(b.ctx.getSessionExtension, undefined);
  assert.equal(b.ctx.trace.traceId, before.ctx.trace.traceId);
  assert.equal(b.ctx.sessionKey, before.ctx.sessionKey);
  const a = toEnvelope(after.hook, after.event, after.ctx);
  assert.equal(a.event.result.details.exitCode, 0);
  assert.equal(a.event.durationMs, after.event.durationMs);
  assert.equal(a.ctx.toolCallId, after.ctx.toolCallId);
});

test("session hooks pass through unchanged, with a timestamp when given", () => {
  for (const h of [...byHook("session_start"), ...byHook("session_end")]) {
    const env = toEnvelope(h.hook, h.event, h.ctx, undefined, new Date(h.ts));
    assert.deepEqual(env.event, h.event);
    assert.deepEqual(env.ctx, h.ctx);
    assert.equal(env.ts, new Date(h.ts).toISOString());
  }
});

test("toJsonSafe cuts long strings and arrays, breaks cycles, keeps JSON data", () => {
  const cyc = { a: 1 };
  cyc.self = cyc;
  const out = toJsonSafe(
    { cyc, big: "x".repeat(20), arr: [1, 2, 3, 4, 5], n: 10n, f() {}, u: undefined, inf: Infinity, d: new Date(0) },
    { maxString: 8, maxDepth: 5, maxArray: 3 },
  );
  assert.equal(out.cyc.self, "[cycle]");
  assert.equal(out.big, "xxxxxxxx…[truncated 12 chars]");
  assert.deepEqual(out.arr, [1, 2, 3, "[2 more items]"]);
  assert.equal(out.n, "10");
  assert.ok(!("f" in out) && !("u" in out));
  assert.equal(out.inf, "Infinity");
  assert.equal(out.d, "1970-01-01T00:00:00.000Z");
  assert.equal(toJsonSafe({ a: { b: { c: 1 } } }, { maxString: 8, maxDepth: 2, maxArray: 3 }).a.b, "[too deep]");
});

test("a write of a large file is cut to fit the ingest body limit", () => {
  const env = toEnvelope("before_tool_call", { toolName: "write", params: { path: "a", content: "y".repeat(2_000_000) } }, { sessionKey: "k" });
  assert.ok(JSON.stringify(env).length < 20_000);
  assert.match(env.event.params.content, /truncated 1991808 chars/);
});

test("batches hold one conversation: session_start first, session_end last, one session each", () => {
  const env = (hook, sessionKey) => ({ hook, event: {}, ctx: { sessionKey } });
  const q = [
    env("before_tool_call", "a"),
    env("after_tool_call", "a"),
    env("session_end", "a"),
    env("session_start", "a"),
    env("before_tool_call", "a"),
    env("before_tool_call", "b"),
    env("session_start", "b"),
  ];
  const b = splitBatches(q);
  assert.deepEqual(
    b.map((x) => x.map((e) => `${e.hook}:${sessionKeyOf(e)}`)),
    [
      ["before_tool_call:a", "after_tool_call:a", "session_end:a"],
      ["session_start:a", "before_tool_call:a"],
      ["before_tool_call:b"],
      ["session_start:b"],
    ],
  );
  assert.equal(splitBatches(Array.from({ length: 250 }, () => env("x", "a")), 100).length, 3);
  assert.equal(splitBatches(Array.from({ length: 10 }, () => env("x", "a")), 100, 60).length, 10);
});

test("the recorded sessions map to their keys; subagent events to the requester's", () => {
  assert.equal(sessionKeyOf(toEnvelope("subagent_spawned", { requesterSessionKey: "r" }, {})), "r");
  assert.equal(sessionKeyOf(toEnvelope("x", {}, { requesterSessionKey: "q" })), "q");
  for (const h of hooks.filter((x) => kForwardedHooks.includes(x.hook))) {
    assert.equal(sessionKeyOf(toEnvelope(h.hook, h.event, h.ctx)), h.ctx.sessionKey ?? h.event.sessionKey);
  }
  assert.equal(mapContext({}).sessionKey, undefined);
});

test("summarizeTranscript tolerates junk", () => {
  assert.equal(summarizeTranscript("nope").messageCount, 0);
  const s = summarizeTranscript([null, 3, { role: "toolResult", isError: true }, { role: "assistant", usage: { input: 2, output: 3, totalTokens: 5 }, model: "m", provider: "p", stopReason: "stop" }]);
  assert.equal(s.messageCount, 4);
  assert.equal(s.toolErrors, 1);
  assert.deepEqual(s.usage, { input: 2, output: 3, total: 5 });
  assert.deepEqual(s.models, ["p/m"]);
  assert.equal(s.lastStopReason, "stop");
});

test("traceparent carries the conversation id as trace id", () => {
  assert.equal(
    traceparentFor("019ac3b2-7c00-7abc-8def-0123456789ab", "00f067aa0ba902b7"),
    "00-019ac3b27c007abc8def0123456789ab-00f067aa0ba902b7-01",
  );
  assert.equal(traceparentFor("not-a-uuid", "00f067aa0ba902b7"), undefined);
  assert.equal(traceparentFor("00000000-0000-0000-0000-000000000000", "00f067aa0ba902b7"), undefined);
  assert.equal(traceparentFor("019ac3b2-7c00-7abc-8def-0123456789ab", "0000000000000000"), undefined);
});

test("the recorded traces hold exactly the tool calls the gateway announced, per session", (t) => {
  const path = join(kRepoRoot, "tests/fixtures/openclaw/traces.json");
  if (!existsSync(path)) return t.skip("no traces.json (recorded by CLAWBACK_REFRESH_FIXTURES=1 make e2e-openclaw)");
  const traces = JSON.parse(readFileSync(path, "utf8"));
  const announced = new Set(byHook("before_tool_call").map((h) => h.event.toolCallId));
  let calls = 0;
  for (const list of Object.values(traces)) {
    for (const tr of list) {
      const key = tr.conversation.external_ids.find((e) => e.kind === "openclaw.session_key").value;
      for (const c of tr.tool_calls) {
        assert.ok(announced.has(c.tool_call_id), `${c.tool_call_id} not in hooks.jsonl`);
        const h = byHook("before_tool_call").find((x) => x.event.toolCallId === c.tool_call_id);
        assert.equal(h.ctx.sessionKey, key);
        assert.deepEqual(c.params, h.event.params);
        calls++;
      }
    }
  }
  assert.ok(calls > 0);
});
