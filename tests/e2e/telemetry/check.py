#!/usr/bin/env python3
"""Checks what the receiver got: OTLP/JSON spans whose trace id is the conversation id (with
the attributes the issue names) and Loki lines carrying it. Usage: check.py OUT_DIR CONV_ID"""
import glob
import json
import os
import sys

out, conv = sys.argv[1], sys.argv[2]
trace_hex = conv.replace("-", "")
spans, lines, problems = [], [], []
for path in sorted(glob.glob(os.path.join(out, "*.body"))):
    body = json.load(open(path))
    if "v1_traces" in path:
        for rs in body["resourceSpans"]:
            res = {a["key"]: a["value"] for a in rs["resource"]["attributes"]}
            if res.get("service.name", {}).get("stringValue") != "clawback":
                problems.append("resource service.name is not clawback")
            for ss in rs["scopeSpans"]:
                spans.extend(ss["spans"])
    elif "loki" in path:
        for st in body["streams"]:
            if set(st["stream"]) != {"service", "kind", "env"}:
                problems.append(f"unexpected Loki labels {st['stream']}")
            lines.extend(st["values"])

mine = [s for s in spans if s["traceId"] == trace_hex]
names = sorted(s["name"] for s in mine)
if not any(n == "conversation" for n in names):
    problems.append(f"no root span for the conversation; spans: {names}")
tool = [s for s in mine if s["name"].startswith("tool_call")]
if not tool:
    problems.append("no tool_call span")
else:
    attrs = {a["key"]: a["value"] for a in tool[0]["attributes"]}
    if attrs.get("clawback.conversation.id", {}).get("stringValue") != conv:
        problems.append("tool span lacks clawback.conversation.id")
    if attrs.get("openclaw.session_key", {}).get("stringValue") != "agent:main:main":
        problems.append("tool span lacks openclaw.session_key")
    if not tool[0].get("links"):
        problems.append("tool span has no link to OpenClaw's trace")
root = [s for s in mine if s["name"] == "conversation"]
if root and any(s.get("parentSpanId") != root[0]["spanId"] for s in mine if s is not root[0]):
    problems.append("child spans do not hang under the conversation's root span")
carrying = [l for l in lines if conv in l[1] and len(l) == 3 and l[2].get("conversation_id") == conv]
if len(carrying) < 4:
    problems.append(f"expected >= 4 Loki lines carrying the conversation, got {len(carrying)}")
for p in problems:
    print("FAIL " + p, file=sys.stderr)
print(f"{len(mine)} spans in the conversation's trace ({', '.join(names)}), "
      f"{len(carrying)} Loki lines carrying it; {len(problems)} problems")
sys.exit(1 if problems else 0)
