// Test harness: a stand-in for OpenClaw's plugin API that records the handlers
// the plugin registers and calls them the way the gateway does; a real
// `clawback serve` on a free loopback port with a temp data dir; and a
// loopback HTTP server whose answers a test controls (hangs, errors).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const kRepoRoot = resolve(here, "../../..");

/** Recorded hook events: $CLAWBACK_OPENCLAW_FIXTURE, else tests/fixtures/openclaw/hooks.jsonl. */
export function loadFixture(path = process.env.CLAWBACK_OPENCLAW_FIXTURE || join(kRepoRoot, "tests/fixtures/openclaw/hooks.jsonl")) {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l));
}

/**
 * The sessions of a fixture: `cli`, a session key that was announced and reset (an
 * `openclaw agent --session-key` session), and `webhook`, one with tool calls but no
 * session_start (a /hooks/agent or cron turn).
 */
export function fixtureSessions(hooks) {
  const keyOf = (h) => h.ctx?.sessionKey;
  const cli = hooks.find((h) => h.hook === "session_end" && h.event.reason === "reset")?.ctx.sessionKey;
  const announced = new Set(hooks.filter((h) => h.hook === "session_start").map(keyOf));
  const webhook = hooks.find((h) => h.hook === "before_tool_call" && !announced.has(keyOf(h)))?.ctx.sessionKey;
  if (!cli || !webhook) throw new Error("fixture lacks a reset CLI session or an unannounced webhook session");
  return { cli, webhook };
}

/** The part of OpenClaw's plugin API the plugin touches, recording what it registers. */
export class FakeHost {
  constructor(pluginConfig = {}) {
    this.pluginConfig = pluginConfig;
    this.handlers = new Map();
    this.logs = [];
    const log = (level) => (msg) => this.logs.push(`${level}: ${msg}`);
    this.logger = { info: log("info"), warn: log("warn"), debug: log("debug"), error: log("error") };
    this.on = (name, handler, opts) => {
      if (!this.handlers.has(name)) this.handlers.set(name, []);
      this.handlers.get(name).push({ handler, opts });
    };
  }

  /** Calls every handler of `hook` like the gateway: the last non-undefined result wins. */
  async call(hook, event, ctx) {
    let result;
    for (const { handler } of this.handlers.get(hook) ?? []) {
      const r = await handler(structuredClone(event), { ...ctx });
      if (r !== undefined) result = r;
    }
    return result;
  }

  /** Calls a hook and measures how long the agent would have waited. */
  async timed(hook, event, ctx) {
    const t0 = performance.now();
    const result = await this.call(hook, event, ctx);
    return { result, ms: performance.now() - t0 };
  }
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The clawback binary under test: $CLAWBACK_BIN, else build/clawback. */
export function clawbackBin() {
  return process.env.CLAWBACK_BIN || join(kRepoRoot, "build/clawback");
}

/** Runs the clawback CLI against `dataDir`; throws with its stderr on failure. */
export function clawback(dataDir, args, { allowFail = false } = {}) {
  const r = spawnSync(clawbackBin(), ["--data-dir", dataDir, ...args], {
    encoding: "utf8",
    env: { ...process.env, CLAWBACK_HOME: dataDir },
    timeout: 30000,
  });
  if (!allowFail && r.status !== 0) {
    throw new Error(`clawback ${args.join(" ")} exited ${r.status}: ${r.stderr || r.stdout}`);
  }
  return r;
}

/** The token in `clawback token create` output (JSON or text). */
export function parseToken(stdout) {
  const text = stdout.trim();
  try {
    const j = JSON.parse(text);
    if (typeof j.token === "string") return j.token;
  } catch {
    // text output
  }
  const words = text.split(/\s+/).filter((w) => /^[A-Za-z0-9_.\-]{20,}$/.test(w));
  if (words.length === 0) throw new Error(`no token in: ${text}`);
  return words[words.length - 1];
}

/**
 * A real `clawback serve` with a fresh data dir and an ingest token, on a free
 * port; restartable on the same port and data dir.
 */
export class ClawbackServer {
  static async start() {
    const s = new ClawbackServer();
    s.dataDir = mkdtempSync(join(tmpdir(), "clawback-oc-test-"));
    try {
      clawback(s.dataDir, ["init"]);
      s.token = parseToken(clawback(s.dataDir, ["--json", "token", "create", "--role", "ingest"]).stdout);
      s.viewerToken = parseToken(clawback(s.dataDir, ["--json", "token", "create", "--role", "viewer"]).stdout);
      s.port = await freePort();
      s.url = `http://127.0.0.1:${s.port}`;
      await s.up();
    } catch (e) {
      await s.stop();
      throw e;
    }
    return s;
  }

  async up() {
    this.stderr = "";
    this.proc = spawn(clawbackBin(), ["--data-dir", this.dataDir, "serve", "--listen", `127.0.0.1:${this.port}`], {
      env: { ...process.env, CLAWBACK_HOME: this.dataDir },
      stdio: ["ignore", "ignore", "pipe"],
    });
    this.proc.stderr.on("data", (d) => (this.stderr += d));
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) throw new Error(`clawback serve exited: ${this.stderr}`);
      try {
        const r = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(500) });
        if (r.ok) return;
      } catch {
        // not up yet
      }
      await sleep(50);
    }
    throw new Error(`clawback serve did not become healthy: ${this.stderr}`);
  }

  async down() {
    if (!this.proc || this.proc.exitCode !== null) return;
    const exited = new Promise((r) => this.proc.once("exit", r));
    this.proc.kill("SIGTERM");
    const t = setTimeout(() => this.proc.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(t);
  }

  /** `clawback trace ID --json`, parsed. */
  trace(id) {
    return JSON.parse(clawback(this.dataDir, ["--json", "trace", id]).stdout);
  }

  /** GET with the viewer token, parsed JSON (or null on 404). */
  async get(path) {
    const r = await fetch(this.url + path, { headers: { Authorization: `Bearer ${this.viewerToken}` } });
    if (r.status === 404) return null;
    if (!r.ok) throw new Error(`GET ${path}: HTTP ${r.status} ${await r.text()}`);
    return r.json();
  }

  async stop() {
    await this.down();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** The subcommands the clawback binary lists in --help (empty when it can't run). */
export function clawbackCommands() {
  try {
    const r = spawnSync(clawbackBin(), ["--help"], { encoding: "utf8", timeout: 10000 });
    return new Set([...(r.stdout ?? "").matchAll(/^\s{2}([a-z][a-z-]*)(?:,|\s{2,})/gm)].map((m) => m[1]));
  } catch {
    return new Set();
  }
}

/** True when the clawback binary has what a real-server test needs: init, token, serve, trace. */
export function haveClawbackServe() {
  const cmds = clawbackCommands();
  return ["init", "token", "serve", "trace"].every((c) => cmds.has(c));
}

/**
 * A loopback server standing in for an unhealthy clawback: `mode` decides each
 * answer ("ok", "hang", "500", "400", "401"); every request body is kept.
 */
export class ScriptedServer {
  static async start(mode = "ok") {
    const s = new ScriptedServer();
    s.mode = mode;
    s.bodies = [];
    s.nextId = 1;
    s.pending = new Set();
    s.server = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        s.bodies.push(JSON.parse(body));
        const id = `019ac3b2-7c00-7abc-8def-${String(s.nextId++).padStart(12, "0")}`;
        switch (s.mode) {
          case "hang":
            s.pending.add(res);
            return;
          case "500":
          case "400":
          case "401":
            res.writeHead(Number(s.mode), { "Content-Type": "application/json" });
            res.end(JSON.stringify({ error: { message: `scripted ${s.mode}`, field: "hook" } }));
            return;
          default:
            res.writeHead(200, { "Content-Type": "application/json" });
            res.end(JSON.stringify({ conversation_id: id }));
        }
      });
    });
    await new Promise((r) => s.server.listen(0, "127.0.0.1", r));
    s.url = `http://127.0.0.1:${s.server.address().port}`;
    return s;
  }

  /** Every envelope received, flattened, in order. */
  get envelopes() {
    return this.bodies.flatMap((b) => (Array.isArray(b) ? b : [b]));
  }

  async stop() {
    for (const res of this.pending) res.destroy();
    this.server.closeAllConnections?.();
    await new Promise((r) => this.server.close(r));
  }
}
