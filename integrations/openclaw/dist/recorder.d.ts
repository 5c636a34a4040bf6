export declare const kDefaultUrl = "http://127.0.0.1:18800";
export declare const kEventsPath = "/v1/openclaw/events";
export interface RecorderConfig {
    /** clawback server base URL. */
    url: string;
    /** Bearer token with the `ingest` role; empty sends no Authorization header. */
    token: string;
    /** Upper bound of one request to clawback, and of any wait imposed on the agent. */
    timeoutMs: number;
    /** Block a tool call when clawback cannot record it. */
    failClosed: boolean;
    /** How long ordinary events wait to be batched together. */
    flushMs: number;
    /** After a failed request, how long to queue instead of trying again. */
    retryMs: number;
    /** Most envelopes held while clawback is unreachable; older ones are dropped (and counted). */
    maxQueue: number;
}
export interface Logger {
    info?: (msg: string) => void;
    warn?: (msg: string) => void;
    debug?: (msg: string) => void;
}
/** What fetch needs; tests may pass their own. */
export type FetchLike = (url: string, init: {
    method: string;
    headers: Record<string, string>;
    body: string;
    signal: AbortSignal;
}) => Promise<{
    ok: boolean;
    status: number;
    text(): Promise<string>;
}>;
/**
 * The recorder's config from the plugin's config block
 * (plugins.entries.clawback.config) with environment fallbacks:
 * CLAWBACK_URL (or CLAWBACK_SERVER), CLAWBACK_TOKEN (or CLAWBACK_TOKEN_FILE),
 * CLAWBACK_FAIL_CLOSED.
 */
export declare function resolveConfig(raw: Record<string, unknown> | undefined, env?: NodeJS.ProcessEnv): RecorderConfig;
/** Outcome of one delivery attempt of queued envelopes. */
export interface DeliveryResult {
    ok: boolean;
    /** Why it failed, for logs and block reasons. */
    error?: string;
}
export declare class Recorder {
    readonly config: RecorderConfig;
    private readonly log;
    private readonly fetchImpl;
    private queue;
    private chain;
    private timer;
    private downUntil;
    private down;
    private gap;
    private readonly sessions;
    /** Envelopes delivered, dropped, and gap reports sent: for tests and logs. */
    readonly stats: {
        delivered: number;
        dropped: number;
        requests: number;
        failedRequests: number;
        gapsReported: number;
    };
    constructor(config: RecorderConfig, log?: Logger, fetchImpl?: FetchLike);
    /** The conversation clawback opened for an OpenClaw session, if known. */
    conversationFor(sessionKey: string | undefined): string | undefined;
    /** True while sending is paused after a failed request (events are queued, not sent). */
    get paused(): boolean;
    /** Envelopes waiting to be sent. */
    get queued(): number;
    /**
     * Queues one hook call. `urgent` sends now instead of after flushMs. Resolves
     * when the envelope was delivered or given up on; never rejects.
     */
    record(hook: string, event: unknown, ctx: unknown, urgent?: boolean): Promise<DeliveryResult>;
    /** Sends everything queued now (unless clawback is in its retry pause and `force` is false). */
    flush(force?: boolean): Promise<void>;
    /**
     * Waits for `p` at most timeoutMs; a late result is still applied when it
     * arrives, the agent just doesn't wait for it.
     */
    bounded(p: Promise<DeliveryResult>): Promise<DeliveryResult>;
    /**
     * Environment for an exec child of this session (empty when clawback gave no id yet).
     * OpenClaw resolves it before `before_tool_call` of the same call, so the tool call's id
     * is not known here; the span id is fresh per command.
     */
    execEnv(sessionKey: string | undefined): Record<string, string>;
    private flushSoon;
    private trimQueue;
    private countDropped;
    private gapEnvelope;
    private post;
    private static conversationIdOf;
    private learn;
    private send;
}
