// The recorder behind the plugin's hook handlers: a short in-memory queue that
// sends envelopes to clawback in order, in small batches, with a hard timeout
// per request; the conversation ids clawback answers with, per OpenClaw session;
// and the count of what could not be delivered, reported on the next contact.
//
// It never throws into OpenClaw and never waits longer than `timeoutMs` for
// clawback, unless `failClosed` is set, in which case a tool call that could not
// be recorded is blocked.

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";

import {
  type Envelope,
  kDefaultLimits,
  kDeliveryGapHook,
  sessionKeyOf,
  splitBatches,
  toEnvelope,
  traceparentFor,
} from "./mapping.js";

export const kDefaultUrl = "http://127.0.0.1:18800";
export const kEventsPath = "/v1/openclaw/events";

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
}) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

function numberOr(v: unknown, fallback: number, min: number, max: number): number {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  return Number.isFinite(n) ? Math.min(max, Math.max(min, Math.trunc(n))) : fallback;
}

function boolOr(v: unknown, fallback: boolean): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v === "string") return ["1", "true", "yes", "on"].includes(v.toLowerCase());
  return fallback;
}

/**
 * The recorder's config from the plugin's config block
 * (plugins.entries.clawback.config) with environment fallbacks:
 * CLAWBACK_URL (or CLAWBACK_SERVER), CLAWBACK_TOKEN (or CLAWBACK_TOKEN_FILE),
 * CLAWBACK_FAIL_CLOSED.
 */
export function resolveConfig(
  raw: Record<string, unknown> | undefined,
  env: NodeJS.ProcessEnv = process.env,
): RecorderConfig {
  const c = raw ?? {};
  const str = (v: unknown): string => (typeof v === "string" ? v.trim() : "");
  let token = str(c.token) || str(env.CLAWBACK_TOKEN);
  const tokenFile = str(c.tokenFile) || str(env.CLAWBACK_TOKEN_FILE);
  if (!token && tokenFile) {
    try {
      token = readFileSync(tokenFile, "utf8").trim();
    } catch {
      token = "";
    }
  }
  const url = (str(c.url) || str(env.CLAWBACK_URL) || str(env.CLAWBACK_SERVER) || kDefaultUrl).replace(/\/+$/, "");
  return {
    url,
    token,
    timeoutMs: numberOr(c.timeoutMs, 1500, 50, 15000),
    failClosed: boolOr(c.failClosed ?? env.CLAWBACK_FAIL_CLOSED, false),
    flushMs: numberOr(c.flushMs, 25, 0, 5000),
    retryMs: numberOr(c.retryMs, 2000, 0, 600000),
    maxQueue: numberOr(c.maxQueue, 1000, 1, 100000),
  };
}

/** Outcome of one delivery attempt of queued envelopes. */
export interface DeliveryResult {
  ok: boolean;
  /** Why it failed, for logs and block reasons. */
  error?: string;
}

interface Pending {
  env: Envelope;
  /** Resolves once this envelope was sent or given up on. */
  done: (r: DeliveryResult) => void;
  promise: Promise<DeliveryResult>;
  at: string;
}

interface Gap {
  dropped: number;
  hooks: Record<string, number>;
  sessionKeys: Set<string>;
  since: string;
  until: string;
  lastError: string;
}

/** What the recorder knows of one OpenClaw session. */
interface SessionState {
  /** The open conversation clawback answered with; unset after session_end. */
  conversationId?: string;
}

export class Recorder {
  readonly config: RecorderConfig;
  private readonly log: Logger;
  private readonly fetchImpl: FetchLike;
  private queue: Pending[] = [];
  private chain: Promise<void> = Promise.resolve();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private downUntil = 0;
  private down = false;
  private gap: Gap | undefined;
  private readonly sessions = new Map<string, SessionState>();
  /** Envelopes delivered, dropped, and gap reports sent: for tests and logs. */
  readonly stats = { delivered: 0, dropped: 0, requests: 0, failedRequests: 0, gapsReported: 0 };

  constructor(config: RecorderConfig, log: Logger = {}, fetchImpl?: FetchLike) {
    this.config = config;
    this.log = log;
    this.fetchImpl = fetchImpl ?? (globalThis.fetch as unknown as FetchLike);
  }

  /** The conversation clawback opened for an OpenClaw session, if known. */
  conversationFor(sessionKey: string | undefined): string | undefined {
    return sessionKey ? this.sessions.get(sessionKey)?.conversationId : undefined;
  }

  /** True while sending is paused after a failed request (events are queued, not sent). */
  get paused(): boolean {
    return Date.now() < this.downUntil;
  }

  /** Envelopes waiting to be sent. */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * Queues one hook call. `urgent` sends now instead of after flushMs. Resolves
   * when the envelope was delivered or given up on; never rejects.
   */
  record(hook: string, event: unknown, ctx: unknown, urgent = false): Promise<DeliveryResult> {
    let env: Envelope;
    const now = new Date();
    try {
      env = toEnvelope(hook, event, ctx, kDefaultLimits, now);
    } catch (e) {
      return Promise.resolve({ ok: false, error: `could not map ${hook}: ${String(e)}` });
    }
    let done!: (r: DeliveryResult) => void;
    const promise = new Promise<DeliveryResult>((resolve) => (done = resolve));
    const item: Pending = { env, done, promise, at: now.toISOString() };
    this.queue.push(item);
    this.trimQueue();
    if (urgent || this.config.flushMs === 0) this.flushSoon(0);
    else this.flushSoon(this.config.flushMs);
    return promise;
  }

  /** Sends everything queued now (unless clawback is in its retry pause and `force` is false). */
  flush(force = false): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const run = async (): Promise<void> => {
      if (this.queue.length === 0) return;
      if (!force && Date.now() < this.downUntil) {
        this.flushSoon(this.downUntil - Date.now());
        return;
      }
      const items = this.queue;
      this.queue = [];
      try {
        await this.send(items);
      } catch (e) {
        // Never an unhandled rejection inside the gateway: count the loss and go on.
        this.countDropped(items, `clawback plugin error: ${String(e)}`);
        this.log.warn?.(`clawback: ${String(e)}`);
      }
    };
    this.chain = this.chain.then(run, run);
    return this.chain;
  }

  /**
   * Waits for `p` at most timeoutMs; a late result is still applied when it
   * arrives, the agent just doesn't wait for it.
   */
  async bounded(p: Promise<DeliveryResult>): Promise<DeliveryResult> {
    let t: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<DeliveryResult>((resolve) => {
      t = setTimeout(
        () => resolve({ ok: false, error: `no answer from clawback within ${this.config.timeoutMs} ms` }),
        this.config.timeoutMs,
      );
    });
    try {
      return await Promise.race([p, timeout]);
    } finally {
      if (t) clearTimeout(t);
    }
  }

  /**
   * Environment for an exec child of this session (empty when clawback gave no id yet).
   * OpenClaw resolves it before `before_tool_call` of the same call, so the tool call's id
   * is not known here; the span id is fresh per command.
   */
  execEnv(sessionKey: string | undefined): Record<string, string> {
    const id = this.conversationFor(sessionKey);
    if (!id) return {};
    const env: Record<string, string> = { CLAWBACK_CONVERSATION_ID: id };
    const tp = traceparentFor(id, randomBytes(8).toString("hex"));
    if (tp) env.TRACEPARENT = tp;
    const attr = `clawback.conversation.id=${id}`;
    const existing = (process.env.OTEL_RESOURCE_ATTRIBUTES ?? "")
      .split(",")
      .filter((kv) => kv.trim() !== "" && !kv.startsWith("clawback.conversation.id="));
    env.OTEL_RESOURCE_ATTRIBUTES = [...existing, attr].join(",");
    return env;
  }

  private flushSoon(ms: number): void {
    if (this.timer) {
      if (ms > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, Math.max(0, ms));
    // A pending flush must not keep the gateway process alive on its own.
    (this.timer as { unref?: () => void }).unref?.();
  }

  private trimQueue(): void {
    const excess = this.queue.length - this.config.maxQueue;
    if (excess <= 0) return;
    const dropped = this.queue.splice(0, excess);
    this.countDropped(dropped, `queue full (${this.config.maxQueue} events) while clawback was unreachable`);
  }

  private countDropped(items: Pending[], error: string): void {
    if (items.length === 0) return;
    const now = new Date().toISOString();
    const g: Gap =
      this.gap ?? { dropped: 0, hooks: {}, sessionKeys: new Set(), since: items[0]!.at, until: now, lastError: "" };
    for (const p of items) {
      g.dropped++;
      g.hooks[p.env.hook] = (g.hooks[p.env.hook] ?? 0) + 1;
      const k = sessionKeyOf(p.env);
      if (k && g.sessionKeys.size < 50) g.sessionKeys.add(k);
      p.done({ ok: false, error });
    }
    g.until = now;
    g.lastError = error;
    this.gap = g;
    this.stats.dropped += items.length;
  }

  private gapEnvelope(first: Envelope): Envelope {
    const g = this.gap!;
    const ctx: Record<string, unknown> = {};
    for (const k of ["agentId", "sessionKey", "sessionId"]) {
      if (first.ctx[k] !== undefined) ctx[k] = first.ctx[k];
    }
    return {
      hook: kDeliveryGapHook,
      ts: new Date().toISOString(),
      event: {
        dropped: g.dropped,
        hooks: g.hooks,
        sessionKeys: [...g.sessionKeys],
        since: g.since,
        until: g.until,
        reason: g.lastError,
      },
      ctx,
    };
  }

  // `transient` failures (network, timeout, 5xx, auth) pause sending for
  // retryMs; a rejected batch (other 4xx) is dropped alone.
  private async post(
    batch: Envelope[],
  ): Promise<{ ok: true; body: unknown } | { ok: false; error: string; transient: boolean }> {
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (this.config.token) headers.Authorization = `Bearer ${this.config.token}`;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.config.timeoutMs);
    this.stats.requests++;
    try {
      const res = await this.fetchImpl(this.config.url + kEventsPath, {
        method: "POST",
        headers,
        body: JSON.stringify(batch.length === 1 ? batch[0] : batch),
        signal: controller.signal,
      });
      const text = await res.text();
      if (!res.ok) {
        let detail = text.slice(0, 300);
        try {
          const j = JSON.parse(text) as Record<string, unknown>;
          const e = j.error ?? j.message;
          if (typeof e === "string") detail = e;
          else if (e && typeof e === "object" && typeof (e as Record<string, unknown>).message === "string") {
            detail = String((e as Record<string, unknown>).message);
          }
        } catch {
          // not JSON: keep the text
        }
        const transient = res.status >= 500 || res.status === 401 || res.status === 403 || res.status === 429;
        return { ok: false, error: `clawback answered HTTP ${res.status}: ${detail}`, transient };
      }
      let body: unknown = undefined;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      return { ok: true, body };
    } catch (e) {
      const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
      if (controller.signal.aborted) {
        return { ok: false, error: `clawback at ${this.config.url} did not answer within ${this.config.timeoutMs} ms`, transient: true };
      }
      const why = err.cause?.code ?? err.cause?.message ?? err.message ?? String(e);
      return { ok: false, error: `clawback at ${this.config.url} is unreachable (${why})`, transient: true };
    } finally {
      clearTimeout(timer);
    }
  }

  // The conversation id in clawback's answer: {"conversation_id"} for one
  // envelope or a batch; tolerates a list of per-envelope results too.
  private static conversationIdOf(body: unknown): string | undefined {
    if (!body || typeof body !== "object") return undefined;
    const b = body as Record<string, unknown>;
    if (typeof b.conversation_id === "string") return b.conversation_id;
    const list = Array.isArray(b.conversation_ids) ? b.conversation_ids : Array.isArray(b.results) ? b.results : undefined;
    if (list && list.length > 0) {
      const last = list[list.length - 1];
      if (typeof last === "string") return last;
      if (last && typeof last === "object" && typeof (last as Record<string, unknown>).conversation_id === "string") {
        return (last as Record<string, unknown>).conversation_id as string;
      }
    }
    return undefined;
  }

  private learn(batch: Envelope[], body: unknown): void {
    const key = sessionKeyOf(batch[batch.length - 1]!);
    if (!key) return;
    const last = batch[batch.length - 1]!;
    const s = this.sessions.get(key) ?? {};
    if (last.hook === "session_end") {
      // The conversation is closed; the session's next event opens a new one.
      s.conversationId = undefined;
    } else {
      const id = Recorder.conversationIdOf(body);
      if (id) s.conversationId = id;
    }
    this.sessions.set(key, s);
  }

  private async send(items: Pending[]): Promise<void> {
    const byEnv = new Map<Envelope, Pending>();
    for (const p of items) byEnv.set(p.env, p);
    const batches = splitBatches(items.map((p) => p.env));
    for (let i = 0; i < batches.length; i++) {
      const batch = batches[i]!;
      const pendings = batch.map((e) => byEnv.get(e)!);
      if (Date.now() < this.downUntil && i > 0) {
        // Went down during this flush: keep the rest queued for the next attempt.
        this.queue = [...batches.slice(i).flat().map((e) => byEnv.get(e)!), ...this.queue];
        this.trimQueue();
        this.flushSoon(this.downUntil - Date.now());
        return;
      }
      let withGap = batch;
      if (this.gap) {
        // After a session_start, so the gap lands in the conversation it opens.
        const at = batch[0]!.hook === "session_start" ? 1 : 0;
        withGap = [...batch.slice(0, at), this.gapEnvelope(batch[0]!), ...batch.slice(at)];
      }
      const r = await this.post(withGap);
      if (r.ok) {
        if (this.gap) {
          this.log.info?.(
            `clawback: delivered again; reported ${this.gap.dropped} event(s) lost while it was unreachable`,
          );
          this.stats.gapsReported++;
          this.gap = undefined;
        }
        if (this.down) this.log.info?.(`clawback: ${this.config.url} reachable again`);
        this.down = false;
        this.downUntil = 0;
        this.learn(batch, r.body);
        this.stats.delivered += batch.length;
        for (const p of pendings) p.done({ ok: true });
      } else if (!r.transient) {
        this.stats.failedRequests++;
        this.log.warn?.(`clawback: rejected ${batch.length} event(s): ${r.error}`);
        this.countDropped(pendings, r.error);
      } else {
        this.stats.failedRequests++;
        if (!this.down) {
          this.log.warn?.(
            `clawback: ${r.error}; the agent continues${this.config.failClosed ? " but tool calls are blocked (failClosed)" : ""}, ` +
              `lost events are counted and reported when clawback is back`,
          );
        }
        this.down = true;
        this.downUntil = Date.now() + this.config.retryMs;
        this.countDropped(pendings, r.error);
      }
    }
  }
}
