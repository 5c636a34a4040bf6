/** One ingest envelope, exactly what clawback's OpenClaw endpoint accepts. */
export interface Envelope {
    hook: string;
    event: Record<string, unknown>;
    ctx: Record<string, unknown>;
    /** When the hook fired (RFC 3339), so batching and queueing don't skew the record. */
    ts?: string;
}
/** Limits that keep one envelope well under clawback's 1 MiB body limit. */
export interface MappingLimits {
    /** Longest string kept verbatim; longer ones are cut and marked. */
    maxString: number;
    /** Deepest nesting kept; deeper values become a marker string. */
    maxDepth: number;
    /** Longest array kept; the rest is summarised by a marker element. */
    maxArray: number;
}
export declare const kDefaultLimits: MappingLimits;
/**
 * Hooks the plugin forwards; resolve_exec_env only when its session has no
 * conversation yet (OpenClaw calls it before before_tool_call).
 */
export declare const kForwardedHooks: readonly ["session_start", "session_end", "resolve_exec_env", "before_tool_call", "after_tool_call", "agent_end", "message_received", "subagent_spawned"];
export type ForwardedHook = (typeof kForwardedHooks)[number];
/** The hook name of the event the plugin adds after a delivery outage. */
export declare const kDeliveryGapHook = "plugin.delivery_gap";
/**
 * Converts any value to plain JSON data: drops functions, symbols and undefined
 * members, breaks cycles, turns bigints into strings, cuts long strings and
 * arrays. Marks what it cut, so a reader of the ledger knows the value was
 * shortened rather than empty.
 */
export declare function toJsonSafe(value: unknown, limits?: MappingLimits): unknown;
/** The hook context as data: live objects (abort signals, accessors) removed. */
export declare function mapContext(ctx: unknown, limits?: MappingLimits): Record<string, unknown>;
/** What agent_end keeps of the transcript: counts and ids, never its text. */
export interface TranscriptSummary {
    messageCount: number;
    roles: Record<string, number>;
    toolCalls: Array<{
        id: string;
        name: string;
    }>;
    toolErrors: number;
    usage: {
        input: number;
        output: number;
        total: number;
    };
    models: string[];
    lastStopReason?: string;
}
/**
 * Summarises agent_end's `messages` (the whole transcript, system prompt
 * included, often hundreds of KiB) into counts and ids.
 */
export declare function summarizeTranscript(messages: unknown): TranscriptSummary & {
    textChars: number;
};
/** The event as data; agent_end's transcript replaced by its summary. */
export declare function mapEvent(hook: string, event: unknown, limits?: MappingLimits): Record<string, unknown>;
/** One hook call as an ingest envelope; `ts` is when it fired. */
export declare function toEnvelope(hook: string, event: unknown, ctx: unknown, limits?: MappingLimits, ts?: Date): Envelope;
/**
 * The OpenClaw session an envelope belongs to: ctx.sessionKey, else the
 * event's, else the subagent requester's, else "" (no session).
 */
export declare function sessionKeyOf(env: Envelope): string;
/**
 * Splits a queue of envelopes into request batches so that every batch
 * belongs to exactly one conversation: consecutive envelopes of one session,
 * a session_start only first, a session_end only last, at most `maxBatch`
 * envelopes and about `maxBytes` of JSON. The answer to a batch then names
 * that one conversation.
 */
export declare function splitBatches(queue: Envelope[], maxBatch?: number, maxBytes?: number): Envelope[][];
/** W3C traceparent whose trace id is the conversation's 16 bytes. */
export declare function traceparentFor(conversationId: string, spanId: string): string | undefined;
