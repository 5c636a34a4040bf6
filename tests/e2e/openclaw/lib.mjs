// Helpers of the OpenClaw end-to-end suite: processes (clawback serve, the
// scripted model, the OpenClaw gateway), an isolated OpenClaw state dir and
// config, and turns through the CLI and the inbound webhook.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const kRoot = resolve(here, "../../..");
export const kPluginDir = join(kRoot, "integrations/openclaw");
export const kTapDir = join(here, "tap-plugin");
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// After a turn or a reset returns, the gateway may still be running hooks, and the plugin
// sends them shortly after: give both a moment before the ledger is read, or a fast
// machine reads it too early.
const kSettleMs = 1500;

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

/** Runs a command to completion; resolves {status, stdout, stderr, ms}. */
export function run(cmd, args, { env, cwd, timeoutMs = 120000 } = {}) {
  return new Promise((res) => {
    const t0 = Date.now();
    const p = spawn(cmd, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.on("close", (status, signal) => {
      clearTimeout(timer);
      res({ status, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** A background process with its output in a log file; stoppable. */
export class Proc {
  constructor(cmd, args, { env, cwd, log }) {
    this.log = log;
    this.out = "";
    this.proc = spawn(cmd, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    const keep = (d) => {
      this.out += d;
      if (this.out.length > 200000) this.out = this.out.slice(-100000);
      if (log) writeFileSync(log, d, { flag: "a" });
    };
    this.proc.stdout.on("data", keep);
    this.proc.stderr.on("data", keep);
    this.exited = new Promise((r) => this.proc.once("exit", (code, sig) => r({ code, sig })));
  }

  get running() {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async stop(timeoutMs = 15000) {
    if (!this.running) return;
    this.proc.kill("SIGTERM");
    const t = setTimeout(() => this.proc.kill("SIGKILL"), timeoutMs);
    await this.exited;
    clearTimeout(t);
  }
}

/** Waits for a file to exist with content; returns its text. */
export async function waitFile(path, proc, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(path)) {
      const text = readFileSync(path, "utf8");
      if (text) return text;
    }
    if (proc && !proc.running) throw new Error(`process exited before writing ${path}:\n${proc.out.slice(-3000)}`);
    await sleep(50);
  }
  throw new Error(`${path} not written after ${timeoutMs} ms`);
}

/** Polls `url` until it answers 200 (or the process dies / time runs out). */
export async function waitHttp(url, proc, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc && !proc.running) throw new Error(`process exited before ${url} answered:\n${proc.out.slice(-3000)}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (r.ok) return Date.now();
    } catch {
      // not yet
    }
    await sleep(200);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms:\n${proc?.out.slice(-3000) ?? ""}`);
}

/** The clawback binary, a data dir and a restartable `clawback serve`. */
export class Clawback {
  constructor(bin, dataDir, logDir) {
    this.bin = bin;
    this.dataDir = dataDir;
    this.logDir = logDir;
    this.env = { ...process.env, CLAWBACK_HOME: dataDir };
    delete this.env.CLAWBACK_SERVER;
  }

  cli(args, { allowFail = false } = {}) {
    const r = spawnSync(this.bin, ["--data-dir", this.dataDir, ...args], { encoding: "utf8", env: this.env, timeout: 60000 });
    if (!allowFail && r.status !== 0) throw new Error(`clawback ${args.join(" ")} exited ${r.status}: ${r.stderr}${r.stdout}`);
    return r;
  }

  json(args) {
    return JSON.parse(this.cli(["--json", ...args]).stdout);
  }

  /** Subcommands the binary lists in --help. */
  commands() {
    const r = spawnSync(this.bin, ["--help"], { encoding: "utf8" });
    return new Set([...(r.stdout ?? "").matchAll(/^\s{2}([a-z][a-z-]*)(?:,|\s{2,})/gm)].map((m) => m[1]));
  }

  async init() {
    this.cli(["init"]);
    this.ingestToken = this.json(["token", "create", "--role", "ingest", "--name", "openclaw-e2e"]).token;
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
  }

  async start() {
    this.serve = new Proc(this.bin, ["--data-dir", this.dataDir, "serve", "--listen", `127.0.0.1:${this.port}`], {
      env: this.env,
      log: join(this.logDir, "clawback-serve.log"),
    });
    await waitHttp(`${this.url}/healthz`, this.serve, 20000);
  }

  async stop() {
    if (this.serve) await this.serve.stop();
  }

  trace(id) {
    return this.json(["trace", id]);
  }

  /** Conversations with an external id equal to `value`, oldest first. */
  conversationsWith(value) {
    const list = this.json(["conversation", "list", "-q", value, "--limit", "100"]);
    const all = Array.isArray(list) ? list : list.conversations;
    return all
      .filter((c) => c.external_ids.some((e) => e.value === value))
      .sort((a, b) => (a.started_at < b.started_at ? -1 : a.started_at > b.started_at ? 1 : a.id < b.id ? -1 : 1));
  }
}

/** The line the scripted model reads its tool calls from. */
export function script(steps, prose = "Do the scripted steps.") {
  return `${prose}\nCLAWBACK-E2E-SCRIPT: ${JSON.stringify(steps)}`;
}

/** An isolated OpenClaw: state dir, config, the gateway process and its CLI. */
export class OpenClaw {
  constructor({ node, modules, dir, workspace, modelPort, clawbackUrl, clawbackToken, tapFile, env }) {
    Object.assign(this, { node, modules, dir, workspace, modelPort, clawbackUrl, clawbackToken, tapFile });
    this.entry = join(modules, "openclaw/openclaw.mjs");
    this.gatewayToken = "e2e-gateway-token-0123456789abcdef0123";
    this.hooksToken = "e2e-hooks-token-0123456789abcdef012345";
    this.configPath = join(dir, "openclaw.json");
    mkdirSync(join(dir, "state"), { recursive: true });
    mkdirSync(join(dir, "home"), { recursive: true });
    this.env = {
      ...process.env,
      ...env,
      OPENCLAW_STATE_DIR: join(dir, "state"),
      OPENCLAW_CONFIG_PATH: this.configPath,
      OPENCLAW_HOME: join(dir, "home"),
      HOME: join(dir, "home"),
      NO_COLOR: "1",
    };
  }

  writeConfig({ failClosed = false, timeoutMs = 1500 } = {}) {
    const config = {
      gateway: { mode: "local", port: this.port, bind: "loopback", auth: { mode: "token", token: this.gatewayToken } },
      models: {
        mode: "replace",
        providers: {
          fake: {
            baseUrl: `http://127.0.0.1:${this.modelPort}/v1`,
            apiKey: "x",
            api: "openai-completions",
            models: [{ id: "fake-model", name: "Fake", reasoning: false, input: ["text"], cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 }, contextWindow: 128000, maxTokens: 4096 }],
          },
        },
      },
      agents: { defaults: { model: { primary: "fake/fake-model" }, utilityModel: "", workspace: this.workspace, skipBootstrap: true } },
      tools: { profile: "coding", exec: { host: "gateway", mode: "full" } },
      hooks: { enabled: true, token: this.hooksToken, path: "/hooks", allowedAgentIds: ["main"] },
      plugins: {
        // Only what the suite needs: each bundled plugin (browser, canvas, memory, voice, …)
        // adds seconds to a start-up that a busy 2-core machine stretches to minutes.
        allow: ["clawback", "clawback-e2e-tap"],
        load: { paths: [kPluginDir, kTapDir] },
        entries: {
          clawback: {
            enabled: true,
            hooks: { allowConversationAccess: true },
            config: { url: this.clawbackUrl, token: this.clawbackToken, timeoutMs, failClosed, retryMs: 500 },
          },
          "clawback-e2e-tap": { enabled: true, hooks: { allowConversationAccess: true }, config: { file: this.tapFile } },
        },
      },
      logging: { file: join(this.dir, "openclaw.log") },
    };
    writeFileSync(this.configPath, JSON.stringify(config, null, 2));
  }

  /**
   * Starts the gateway and waits for /readyz. On a loaded machine OpenClaw can give up
   * during start-up ("state lease heartbeat did not become ready" after a fixed 5 s), so a
   * start that dies is retried, up to `attempts` times.
   */
  async start(opts = {}, attempts = 3) {
    if (!this.port) this.port = await freePort();
    this.writeConfig(opts);
    const t0 = Date.now();
    for (let i = 1; ; i++) {
      this.gateway = new Proc(this.node, [this.entry, "gateway", "run", "--port", String(this.port)], {
        env: this.env,
        cwd: this.workspace,
        log: join(this.dir, "gateway.out"),
      });
      try {
        await waitHttp(`http://127.0.0.1:${this.port}/readyz`, this.gateway, 240000);
        this.startAttempts = i;
        return Date.now() - t0;
      } catch (e) {
        await this.gateway.stop();
        if (i >= attempts) throw e;
        console.log(`# gateway start attempt ${i} failed, retrying: ${String(e.message).split("\n").slice(-2).join(" ")}`);
      }
    }
  }

  async stop() {
    if (this.gateway) await this.gateway.stop(30000);
  }

  cli(args, timeoutMs = 120000) {
    return run(this.node, [this.entry, ...args], { env: this.env, cwd: this.workspace, timeoutMs });
  }

  /** One turn through `openclaw agent --session-key`. */
  async agentTurn(sessionKey, message) {
    const r = await this.cli(["agent", "--session-key", sessionKey, "--message", message, "--json"]);
    await sleep(kSettleMs);
    let json;
    try {
      json = JSON.parse(r.stdout.slice(r.stdout.indexOf("{")));
    } catch {
      json = undefined;
    }
    return { ...r, json };
  }

  /**
   * One turn through the inbound webhook, waiting for it to finish. A busy gateway answers
   * 503 when the run could not be admitted in time; that is retried (the run did not start).
   */
  async webhookTurn(message, attempts = 3) {
    const t0 = Date.now();
    for (let i = 1; ; i++) {
      const r = await fetch(`http://127.0.0.1:${this.port}/hooks/agent`, {
        method: "POST",
        headers: { Authorization: `Bearer ${this.hooksToken}`, "Content-Type": "application/json" },
        body: JSON.stringify({ message, agentId: "main", deliver: false, waitForCompletion: true }),
        signal: AbortSignal.timeout(180000),
      });
      const body = await r.text();
      if (r.status === 503 && i < attempts) {
        console.log(`# webhook turn not admitted (attempt ${i}), retrying: ${body.slice(0, 200)}`);
        await sleep(2000);
        continue;
      }
      const ms = Date.now() - t0;
      await sleep(kSettleMs);
      return { status: r.status, body, ms, attempts: i };
    }
  }

  async resetSession(key) {
    const r = await this.cli(["gateway", "call", "sessions.reset", "--params", JSON.stringify({ key, reason: "reset" }), "--json"]);
    await sleep(kSettleMs);
    return r;
  }

  /** Hook calls the tap plugin saw so far. */
  tapped() {
    if (!existsSync(this.tapFile)) return [];
    return readFileSync(this.tapFile, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  }
}
