// Test-only OpenClaw plugin for the e2e suite: appends each hook call, exactly as the
// gateway passes it (live objects such as abort signals become {}), to a JSON-lines
// file. The suite turns that file into tests/fixtures/openclaw/hooks.jsonl.
import { appendFileSync } from "node:fs";

const kHooks = [
  "session_start", "session_end", "before_reset", "before_tool_call", "after_tool_call",
  "agent_end", "message_received", "subagent_spawned", "resolve_exec_env",
];

function line(hook, event, ctx) {
  const seen = new WeakSet();
  return JSON.stringify({ ts: new Date().toISOString(), pid: process.pid, hook, event, ctx }, (k, v) => {
    if (typeof v === "bigint") return v.toString();
    if (v && typeof v === "object") {
      if (seen.has(v)) return "[cycle]";
      seen.add(v);
    }
    return v;
  });
}

export default {
  id: "clawback-e2e-tap",
  name: "clawback e2e hook tap",
  description: "Appends every hook event to a JSON-lines file",
  register(api) {
    const file = api.pluginConfig?.file;
    if (!file) return;
    for (const hook of kHooks) {
      api.on(hook, (event, ctx) => {
        try {
          appendFileSync(file, line(hook, event, ctx) + "\n");
        } catch {
          // a test tap never disturbs the agent
        }
        return undefined;
      }, { priority: 1000 });
    }
  },
};
