// A scripted OpenAI-compatible model for the end-to-end suite, on loopback.
//
// The user message carries the script: a line
//   CLAWBACK-E2E-SCRIPT: [{"tool": "exec", "args": {"command": "..."}}, ...]
// The model is stateless: it counts the tool results that follow the newest user
// message carrying a script, calls the next tool, and answers with text when the
// script is done. Streams server-sent events like the real API (OpenClaw always
// asks for stream: true).
//
// Usage: node fake-model.mjs PORT_FILE LOG_FILE   (writes its port to PORT_FILE)
import { appendFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";

const [portFile, logFile] = process.argv.slice(2);
const kMarker = "CLAWBACK-E2E-SCRIPT:";
let seq = 0;

function textOf(content) {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((p) => (typeof p?.text === "string" ? p.text : "")).join("\n");
  return "";
}

function scriptOf(text) {
  const i = text.lastIndexOf(kMarker);
  if (i < 0) return undefined;
  const line = text.slice(i + kMarker.length).split("\n")[0].trim();
  try {
    const s = JSON.parse(line);
    return Array.isArray(s) ? s : undefined;
  } catch {
    return undefined;
  }
}

// The next step for this history: {tool, args} or {text}.
function decide(messages) {
  let start = -1;
  let script;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].role === "user") {
      script = scriptOf(textOf(messages[i].content));
      if (script) {
        start = i;
        break;
      }
    }
  }
  if (!script) return { text: "No script in the prompt; nothing to do." };
  const done = messages.slice(start + 1).filter((m) => m.role === "tool").length;
  if (done < script.length) return script[done];
  const results = messages.slice(start + 1).filter((m) => m.role === "tool").map((m) => textOf(m.content).slice(0, 200));
  return { text: `Script done: ${done} tool call(s). Last result: ${results.at(-1) ?? ""}` };
}

function sse(res, chunks) {
  res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive" });
  for (const c of chunks) res.write(`data: ${JSON.stringify(c)}\n\n`);
  res.write("data: [DONE]\n\n");
  res.end();
}

const server = createServer((req, res) => {
  let body = "";
  req.on("data", (d) => (body += d));
  req.on("end", () => {
    if (req.method !== "POST" || !req.url.endsWith("/chat/completions")) {
      res.writeHead(404, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
      return;
    }
    let request;
    try {
      request = JSON.parse(body);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const step = decide(request.messages ?? []);
    const id = `chatcmpl-e2e${++seq}`;
    const base = { id, object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model: request.model };
    if (logFile) {
      const tools = (request.tools ?? []).map((t) => t.function?.name);
      appendFileSync(logFile, JSON.stringify({ seq, tools, step, messages: (request.messages ?? []).length }) + "\n");
      if (seq === 1) writeFileSync(`${logFile}.tools.json`, JSON.stringify(request.tools ?? [], null, 1));
    }
    const usage = { ...base, choices: [], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } };
    if (step.tool) {
      const callId = `call_e2e${String(seq).padStart(4, "0")}`;
      sse(res, [
        { ...base, choices: [{ index: 0, delta: { role: "assistant", tool_calls: [{ index: 0, id: callId, type: "function", function: { name: step.tool, arguments: "" } }] }, finish_reason: null }] },
        { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: JSON.stringify(step.args ?? {}) } }] }, finish_reason: null }] },
        { ...base, choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] },
        usage,
      ]);
    } else {
      sse(res, [
        { ...base, choices: [{ index: 0, delta: { role: "assistant", content: step.text }, finish_reason: null }] },
        { ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
        usage,
      ]);
    }
  });
});

server.listen(0, "127.0.0.1", () => {
  writeFileSync(portFile, String(server.address().port));
});
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => server.close(() => process.exit(0)));
