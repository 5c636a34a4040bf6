#!/usr/bin/env python3
"""Compares two SQLite ledgers row by row, ids and times aside.

Usage: compare_ledgers.py DIRECT.db SERVER.db

Every table of the record (conversations and their external ids, events, tool calls,
commands, file changes, commits, deployments, snapshots, backups, rollbacks, tokens) is read
in a stable order; every UUID, wherever it appears (a column, or inside JSON), is replaced by
a label given in order of first appearance, and times (*_ms columns, RFC 3339 strings),
hashes, token hashes, git shas (a commit's message carries the conversation id) and snapshot ids (content addresses that include a time) are dropped.
The two ledgers must then be equal. Prints the first differences and exits 1 when they are not.
"""
import json
import re
import sqlite3
import sys

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
GITSHA = re.compile(r"^[0-9a-f]{40}$")

# Table -> ORDER BY (rows in the order they were made, by their own sequence or time).
TABLES = {
    "conversations": "started_at_ms, rowid",
    "conversation_external_ids": "rowid",
    "events": "seq",
    "tool_calls": "rowid",
    "commands": "rowid",
    "file_changes": "rowid",
    "commits": "time_ms, sha",
    "deployments": "started_at_ms, rowid",
    "snapshots": "rowid",
    "backups": "rowid",
    "rollbacks": "rowid",
    "tokens": "created_at_ms, rowid",
}
# Columns that differ between any two runs by nature.
DROP = {"seq", "hash", "prev_hash", "snapshot_id"}


def normalise(value, labels):
    if isinstance(value, str):
        if value.startswith("{") or value.startswith("["):
            try:
                return normalise(json.loads(value), labels)
            except ValueError:
                pass
        if RFC3339.match(value):
            return "<time>"
        if HEX64.match(value):
            return "<hash>"
        if GITSHA.match(value):  # a commit's sha covers its trailer, i.e. the conversation id
            return "<sha>"
        return UUID.sub(lambda m: labels.setdefault(m.group(0), f"<id{len(labels)}>"), value)
    if isinstance(value, dict):
        out = {}
        for k in sorted(value):
            if k.endswith("_ms") or k in ("time", "started_at", "finished_at", "ended_at",
                                          "snapshot_id", "seconds", "short_id"):
                continue
            out[k] = normalise(value[k], labels)
        return out
    if isinstance(value, list):
        return [normalise(v, labels) for v in value]
    return value


def dump(path):
    db = sqlite3.connect(path)
    labels = {}
    out = {}
    # Events first: their order fixes the labels of every id the others name.
    for table in sorted(TABLES, key=lambda t: t != "events"):
        cols = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
        keep = [c for c in cols if c not in DROP and not c.endswith("_ms")]
        rows = db.execute(f"SELECT {', '.join(keep)} FROM {table} ORDER BY {TABLES[table]}").fetchall()
        out[table] = [dict(zip(keep, (normalise(v, labels) for v in row))) for row in rows]
    return out


a, b = dump(sys.argv[1]), dump(sys.argv[2])
problems = 0
for table in TABLES:
    ra, rb = a[table], b[table]
    if len(ra) != len(rb):
        problems += 1
        print(f"{table}: {len(ra)} rows direct, {len(rb)} through serve", file=sys.stderr)
    for i, (x, y) in enumerate(zip(ra, rb)):
        if x != y:
            problems += 1
            diff = {k: (x.get(k), y.get(k)) for k in set(x) | set(y) if x.get(k) != y.get(k)}
            print(f"{table} row {i}: {json.dumps(diff)[:600]}", file=sys.stderr)
            if problems > 20:
                break
# The scenario must have written every kind of row, or the comparison proves little.
for table in ("conversations", "conversation_external_ids", "events", "commands", "file_changes",
              "commits", "deployments", "snapshots", "rollbacks", "tokens"):
    if not a[table]:
        problems += 1
        print(f"{table}: no rows in the direct ledger (the scenario should write some)", file=sys.stderr)
kinds = sorted({e["kind"] for e in a["events"]})
print("event kinds: " + ", ".join(kinds))
rows = sum(len(v) for v in a.values())
print(f"{rows} rows in {len(TABLES)} tables compared, {problems} differences")
sys.exit(1 if problems else 0)
