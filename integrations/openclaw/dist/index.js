// clawback's OpenClaw plugin: forwards the agent's session, tool and run hooks
// to a clawback server (POST /v1/openclaw/events), and gives every `exec`
// child process the conversation's id (CLAWBACK_CONVERSATION_ID, TRACEPARENT)
// so git commits and other records made by those commands join the same
// conversation.
//
// Only types come from the openclaw package; the compiled plugin has no
// runtime dependency besides Node itself.
import { Recorder, resolveConfig } from "./recorder.js";
export { Recorder, resolveConfig } from "./recorder.js";
export * from "./mapping.js";
export const kPluginId = "clawback";
function blockReason(config, error) {
    return (`clawback could not record this tool call (${error ?? "unknown error"}), and the clawback ` +
        `plugin is configured to fail closed. Start clawback (\`clawback serve\`, ${config.url}) or set ` +
        `plugins.entries.${kPluginId}.config.failClosed to false.`);
}
/** Registers the plugin's handlers on `api`, recording through `rec`. */
export function registerHandlers(api, rec) {
    const cfg = rec.config;
    // Session boundaries are sent at once and awaited briefly, so the conversation id is
    // known (or known closed) before the session's tools run; not awaited at all while
    // clawback is known to be down.
    const boundary = async (hook, event, ctx) => {
        const p = rec.record(hook, event, ctx, true);
        if (!rec.paused)
            await rec.bounded(p);
    };
    api.on("session_start", (event, ctx) => boundary("session_start", event, ctx));
    api.on("session_end", (event, ctx) => boundary("session_end", event, ctx));
    api.on("before_tool_call", async (event, ctx) => {
        if (cfg.failClosed) {
            const p = rec.record("before_tool_call", event, ctx, true);
            void rec.flush(true);
            const r = await rec.bounded(p);
            if (!r.ok)
                return { block: true, blockReason: blockReason(cfg, r.error) };
            return undefined;
        }
        // The first event of a session clawback has named no conversation for yet
        // (webhook and cron turns announce none) is sent at once and awaited briefly,
        // so the session's later events and exec children share its id.
        const needId = !rec.conversationFor(ctx.sessionKey);
        const p = rec.record("before_tool_call", event, ctx, needId);
        if (needId && !rec.paused)
            await rec.bounded(p);
        return undefined;
    }, 
    // Last, so the call recorded is the one that runs after other plugins' rewrites.
    { priority: -100 });
    api.on("after_tool_call", (event, ctx) => {
        void rec.record("after_tool_call", event, ctx);
    });
    api.on("agent_end", (event, ctx) => {
        void rec.record("agent_end", event, ctx, true);
    });
    api.on("message_received", (event, ctx) => {
        void rec.record("message_received", event, ctx);
    });
    api.on("subagent_spawned", (event, ctx) => {
        void rec.record("subagent_spawned", event, ctx);
    });
    // OpenClaw resolves the exec environment before before_tool_call of the same call. A
    // session clawback has not named a conversation for yet (webhook and cron turns send no
    // session_start) is announced here, so the command already runs under its id.
    api.on("resolve_exec_env", async (event, ctx) => {
        const key = event.sessionKey ?? ctx.sessionKey;
        if (key && !rec.conversationFor(key) && !rec.paused) {
            await rec.bounded(rec.record("resolve_exec_env", event, ctx, true));
        }
        const env = rec.execEnv(key);
        return Object.keys(env).length > 0 ? env : undefined;
    });
    api.on("gateway_stop", async () => {
        await rec.bounded(rec.flush(true).then(() => ({ ok: true })));
    });
}
// register() runs more than once per gateway start; the recorder (its queue,
// the session -> conversation map, the loss count) is shared per config.
const recorders = new Map();
/** The recorder for a resolved config, created once per process. */
export function recorderFor(config, log, fetchImpl) {
    const key = JSON.stringify(config);
    let rec = recorders.get(key);
    if (!rec) {
        rec = new Recorder(config, log, fetchImpl);
        recorders.set(key, rec);
    }
    return rec;
}
const plugin = {
    id: kPluginId,
    name: "clawback",
    description: "Records every session, tool call and run in clawback, the flight recorder and undo button " +
        "for agent-operated systems, and tags exec child processes with the conversation id.",
    register(api) {
        const config = resolveConfig(api.pluginConfig);
        const log = api.logger ?? {};
        registerHandlers(api, recorderFor(config, log));
        log.debug?.(`clawback: recording to ${config.url}${config.failClosed ? " (fail closed)" : ""}`);
    },
};
export default plugin;
