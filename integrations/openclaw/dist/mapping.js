// Pure mapping from OpenClaw hook calls to the envelopes clawback ingests at
// POST /v1/openclaw/events: {"hook": NAME, "event": {...}, "ctx": {...}, "ts": RFC 3339}.
//
// Nothing here does I/O, so the fast unit tests (test/mapping.test.mjs) run the
// recorded hook events of tests/fixtures/openclaw/ through it.
export const kDefaultLimits = { maxString: 8192, maxDepth: 12, maxArray: 200 };
/**
 * Hooks the plugin forwards; resolve_exec_env only when its session has no
 * conversation yet (OpenClaw calls it before before_tool_call).
 */
export const kForwardedHooks = [
    "session_start",
    "session_end",
    "resolve_exec_env",
    "before_tool_call",
    "after_tool_call",
    "agent_end",
    "message_received",
    "subagent_spawned",
];
/** The hook name of the event the plugin adds after a delivery outage. */
export const kDeliveryGapHook = "plugin.delivery_gap";
// Context members that are live host objects, not data: never sent.
const kDroppedCtxKeys = new Set([
    "abortSignal",
    "getSessionExtension",
    "hookInvocation",
    "toolAuthority",
]);
/**
 * Converts any value to plain JSON data: drops functions, symbols and undefined
 * members, breaks cycles, turns bigints into strings, cuts long strings and
 * arrays. Marks what it cut, so a reader of the ledger knows the value was
 * shortened rather than empty.
 */
export function toJsonSafe(value, limits = kDefaultLimits) {
    const seen = new WeakSet();
    const walk = (v, depth) => {
        if (v === null)
            return null;
        switch (typeof v) {
            case "string":
                return v.length > limits.maxString
                    ? `${v.slice(0, limits.maxString)}…[truncated ${v.length - limits.maxString} chars]`
                    : v;
            case "number":
                return Number.isFinite(v) ? v : String(v);
            case "boolean":
                return v;
            case "bigint":
                return v.toString();
            case "undefined":
            case "function":
            case "symbol":
                return undefined;
            default:
                break;
        }
        const obj = v;
        if (seen.has(obj))
            return "[cycle]";
        if (depth >= limits.maxDepth)
            return "[too deep]";
        if (obj instanceof Date)
            return obj.toISOString();
        if (typeof AbortSignal !== "undefined" && obj instanceof AbortSignal)
            return undefined;
        seen.add(obj);
        try {
            if (Array.isArray(obj)) {
                const out = [];
                const n = Math.min(obj.length, limits.maxArray);
                for (let i = 0; i < n; i++) {
                    const item = walk(obj[i], depth + 1);
                    out.push(item === undefined ? null : item);
                }
                if (obj.length > n)
                    out.push(`[${obj.length - n} more items]`);
                return out;
            }
            if (obj instanceof Map) {
                return walk(Object.fromEntries(obj), depth);
            }
            if (obj instanceof Set) {
                return walk([...obj], depth);
            }
            const out = {};
            for (const [k, item] of Object.entries(obj)) {
                const mapped = walk(item, depth + 1);
                if (mapped !== undefined)
                    out[k] = mapped;
            }
            return out;
        }
        finally {
            seen.delete(obj);
        }
    };
    return walk(value, 0);
}
function asRecord(v) {
    return v !== null && typeof v === "object" && !Array.isArray(v)
        ? v
        : {};
}
/** The hook context as data: live objects (abort signals, accessors) removed. */
export function mapContext(ctx, limits = kDefaultLimits) {
    const out = {};
    for (const [k, v] of Object.entries(asRecord(ctx))) {
        if (kDroppedCtxKeys.has(k))
            continue;
        const mapped = toJsonSafe(v, limits);
        if (mapped !== undefined)
            out[k] = mapped;
    }
    return out;
}
function textLength(content) {
    if (typeof content === "string")
        return content.length;
    if (!Array.isArray(content))
        return 0;
    let n = 0;
    for (const part of content) {
        const p = asRecord(part);
        if (typeof p.text === "string")
            n += p.text.length;
    }
    return n;
}
/**
 * Summarises agent_end's `messages` (the whole transcript, system prompt
 * included, often hundreds of KiB) into counts and ids.
 */
export function summarizeTranscript(messages) {
    const summary = {
        messageCount: 0,
        roles: {},
        toolCalls: [],
        toolErrors: 0,
        usage: { input: 0, output: 0, total: 0 },
        models: [],
        textChars: 0,
    };
    if (!Array.isArray(messages))
        return summary;
    summary.messageCount = messages.length;
    const models = new Set();
    for (const raw of messages) {
        const m = asRecord(raw);
        const role = typeof m.role === "string" ? m.role : "unknown";
        summary.roles[role] = (summary.roles[role] ?? 0) + 1;
        summary.textChars += textLength(m.content);
        if (Array.isArray(m.content)) {
            for (const part of m.content) {
                const p = asRecord(part);
                if (p.type === "toolCall" && typeof p.id === "string") {
                    summary.toolCalls.push({ id: p.id, name: typeof p.name === "string" ? p.name : "" });
                }
            }
        }
        if (role === "toolResult" && m.isError === true)
            summary.toolErrors++;
        const usage = asRecord(m.usage);
        if (typeof usage.input === "number")
            summary.usage.input += usage.input;
        if (typeof usage.output === "number")
            summary.usage.output += usage.output;
        if (typeof usage.totalTokens === "number")
            summary.usage.total += usage.totalTokens;
        if (typeof m.model === "string") {
            models.add(typeof m.provider === "string" ? `${m.provider}/${m.model}` : m.model);
        }
        if (role === "assistant" && typeof m.stopReason === "string")
            summary.lastStopReason = m.stopReason;
    }
    if (summary.toolCalls.length > 100)
        summary.toolCalls.length = 100;
    summary.models = [...models];
    return summary;
}
/** The event as data; agent_end's transcript replaced by its summary. */
export function mapEvent(hook, event, limits = kDefaultLimits) {
    const ev = asRecord(event);
    if (hook === "agent_end" && "messages" in ev) {
        const { messages, ...rest } = ev;
        const mapped = asRecord(toJsonSafe(rest, limits));
        mapped.transcript = summarizeTranscript(messages);
        return mapped;
    }
    return asRecord(toJsonSafe(ev, limits));
}
/** One hook call as an ingest envelope; `ts` is when it fired. */
export function toEnvelope(hook, event, ctx, limits = kDefaultLimits, ts) {
    const env = { hook, event: mapEvent(hook, event, limits), ctx: mapContext(ctx, limits) };
    if (ts)
        env.ts = ts.toISOString();
    return env;
}
/**
 * The OpenClaw session an envelope belongs to: ctx.sessionKey, else the
 * event's, else the subagent requester's, else "" (no session).
 */
export function sessionKeyOf(env) {
    const pick = (v) => (typeof v === "string" ? v : "");
    return (pick(env.ctx.sessionKey) ||
        pick(env.event.sessionKey) ||
        pick(env.ctx.requesterSessionKey) ||
        pick(env.event.requesterSessionKey));
}
/**
 * Splits a queue of envelopes into request batches so that every batch
 * belongs to exactly one conversation: consecutive envelopes of one session,
 * a session_start only first, a session_end only last, at most `maxBatch`
 * envelopes and about `maxBytes` of JSON. The answer to a batch then names
 * that one conversation.
 */
export function splitBatches(queue, maxBatch = 100, maxBytes = 512 * 1024) {
    const batches = [];
    let current = [];
    let bytes = 0;
    let key = "";
    for (const env of queue) {
        const size = JSON.stringify(env).length;
        const k = sessionKeyOf(env);
        const mustStartNew = current.length > 0 &&
            (k !== key ||
                env.hook === "session_start" ||
                current[current.length - 1].hook === "session_end" ||
                current.length >= maxBatch ||
                bytes + size > maxBytes);
        if (mustStartNew) {
            batches.push(current);
            current = [];
            bytes = 0;
        }
        current.push(env);
        bytes += size;
        key = k;
    }
    if (current.length > 0)
        batches.push(current);
    return batches;
}
/** W3C traceparent whose trace id is the conversation's 16 bytes. */
export function traceparentFor(conversationId, spanId) {
    const hex = conversationId.replace(/-/g, "").toLowerCase();
    if (!/^[0-9a-f]{32}$/.test(hex) || /^0+$/.test(hex))
        return undefined;
    if (!/^[0-9a-f]{16}$/.test(spanId) || /^0+$/.test(spanId))
        return undefined;
    return `00-${hex}-${spanId}-01`;
}
