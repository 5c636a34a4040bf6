#!/usr/bin/env bash
# `clawback snapshot --server URL` → a running `clawback serve` (POST /v1/snapshots) that
# keeps the repository open: the snapshot lands in the repository (restic check --read-data
# clean, restic lists it with its tags and restores it byte for byte), the server's ledger
# records it against the conversation, concurrent requests all succeed, an ingest token
# is refused, and an unknown conversation or another repository is refused before any
# work. Real binary, 127.0.0.1 on a free port, temp dirs only.
source "$(dirname "$0")/lib.sh"

SERVE_PID=
stop_server() {
  if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then
    kill -TERM "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" 2>/dev/null || true
  fi
  SERVE_PID=
}
trap 'stop_server; cleanup' EXIT

REPO=$WORK/repo
step "init a data dir with a repository"
"$CLAWBACK" init --repo "$REPO" --password-file "$PASSWORD_FILE" >"$WORK/init.out" ||
  fail "clawback init failed"
OPERATOR_TOKEN=$("$CLAWBACK" token create --role operator --name op)
INGEST_TOKEN=$("$CLAWBACK" token create --role ingest --name agent)

step "serve on a free port"
touch "$WORK/serve.out"
"$CLAWBACK" serve --listen 127.0.0.1:0 >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVE_PID=$!
URL=
for _ in $(seq 1 200); do
  URL=$(sed -n 's/^clawback: listening on \(http:\/\/[0-9.]*:[0-9]*\).*/\1/p' "$WORK/serve.out")
  [ -n "$URL" ] && break
  kill -0 "$SERVE_PID" 2>/dev/null || { cat "$WORK/serve.err" >&2; fail "serve exited"; }
  sleep 0.05
done
[ -n "$URL" ] || fail "serve did not report its address"
export CLAWBACK_TOKEN=$OPERATOR_TOKEN

CONV=$("$CLAWBACK" --server "$URL" conversation start --title "serve snapshot test")

step "snapshot --server of a tree, with tags, reason and conversation"
make_tree "$WORK/data"
"$CLAWBACK" --server "$URL" --json snapshot "$WORK/data" --tag env=test --reason pre \
  --conversation "$CONV" >"$WORK/snap1.json" || { cat "$WORK/serve.err" >&2; fail "snapshot --server failed"; }
SNAP1=$(python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).read().splitlines()[-1]); print(d["snapshot_id"])' "$WORK/snap1.json")
[ ${#SNAP1} -eq 64 ] || fail "no snapshot id in $(cat "$WORK/snap1.json")"

step "the repository has it: restic snapshots, check --read-data, restore"
r "$REPO" snapshots --json >"$WORK/restic-snaps.json"
python3 - "$WORK/restic-snaps.json" "$SNAP1" "$CONV" <<'EOF' || fail "restic does not list the snapshot with its tags"
import json, sys
snaps = json.load(open(sys.argv[1]))
s = [x for x in snaps if x["id"] == sys.argv[2]]
assert len(s) == 1, snaps
tags = set(s[0].get("tags") or [])
assert {"env=test", "reason=pre", "conversation=" + sys.argv[3]} <= tags, tags
EOF
restic_check_clean "$REPO" --read-data
r "$REPO" restore "$SNAP1" --target "$WORK/restic-restore" >/dev/null
same_tree "$WORK/data" "$(restored "$WORK/restic-restore" "$WORK/data")"

step "the server's ledger recorded it against the conversation"
"$CLAWBACK" --server "$URL" --json trace "$CONV" >"$WORK/trace.json" || fail "trace failed"
python3 - "$WORK/trace.json" "$SNAP1" <<'EOF' || fail "the trace does not show the snapshot"
import json, sys
t = json.load(open(sys.argv[1]))
ids = [s["snapshot_id"] for s in t.get("snapshots", [])]
assert sys.argv[2] in ids, ids
kinds = [e.get("kind") for e in t.get("events", [])]
assert "snapshot" in kinds, kinds
EOF

step "a changed file: the next snapshot has a parent and reads only what changed"
printf 'changed\n' >>"$WORK/data/hello.txt"
"$CLAWBACK" --server "$URL" --json snapshot "$WORK/data" >"$WORK/snap2.json" || fail "second snapshot failed"
python3 - "$WORK/snap2.json" "$SNAP1" <<'EOF' || fail "second snapshot summary is wrong"
import json, sys
d = json.loads(open(sys.argv[1]).read().splitlines()[-1])
assert d["parent"] == sys.argv[2], d
assert d["files_changed"] == 1 and d["files_new"] == 0, d
EOF

step "concurrent snapshot requests all succeed"
for i in 1 2 3 4; do
  mkdir -p "$WORK/par$i"
  head -c $((200000 + i * 1000)) /dev/urandom >"$WORK/par$i/blob"
  printf 'same in all\n' >"$WORK/par$i/common.txt"
done
pids=()
for i in 1 2 3 4; do
  "$CLAWBACK" --server "$URL" snapshot "$WORK/par$i" --tag par=$i >"$WORK/par$i.out" 2>&1 &
  pids+=($!)
done
for i in 1 2 3 4; do
  wait "${pids[$((i - 1))]}" || { cat "$WORK/par$i.out" >&2; fail "concurrent snapshot $i failed"; }
done
[ "$(r "$REPO" snapshots --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 6 ] ||
  fail "expected 6 snapshots after the concurrent ones"

step "a snapshot by restic meanwhile is picked up (the server refreshes its index)"
mkdir -p "$WORK/restic-only" "$WORK/mixed"
head -c 300000 /dev/urandom >"$WORK/restic-only/blob"
r "$REPO" backup "$WORK/restic-only" --tag by=restic >/dev/null
cp "$WORK/restic-only/blob" "$WORK/mixed/copy-of-restic-blob"
"$CLAWBACK" --server "$URL" --json snapshot "$WORK/mixed" >"$WORK/mixed.json" || fail "snapshot after restic failed"
python3 - "$WORK/mixed.json" <<'EOF' || fail "content restic stored was stored again"
import json, sys
d = json.loads(open(sys.argv[1]).read().splitlines()[-1])
assert d["data_blobs"] == 0, d
EOF

step "refusals: ingest token, unknown conversation, another repository"
set +e
CLAWBACK_TOKEN=$INGEST_TOKEN "$CLAWBACK" --server "$URL" snapshot "$WORK/data" >"$WORK/deny.out" 2>&1
rc=$?
set -e
[ $rc -eq 5 ] || { cat "$WORK/deny.out" >&2; fail "an ingest token should be refused with exit 5, got $rc"; }
grep -q operator "$WORK/deny.out" || fail "the refusal should name the operator role"
set +e
"$CLAWBACK" --server "$URL" snapshot "$WORK/data" --conversation 0190f3a2-7c1e-7d41-9a2b-1c2d3e4f5a6b \
  >"$WORK/noconv.out" 2>&1
rc=$?
"$CLAWBACK" --server "$URL" snapshot "$WORK/data" --repo "$WORK/other-repo" >"$WORK/other.out" 2>&1
rc2=$?
set -e
[ $rc -eq 3 ] || { cat "$WORK/noconv.out" >&2; fail "unknown conversation: want exit 3, got $rc"; }
[ $rc2 -eq 2 ] || { cat "$WORK/other.out" >&2; fail "another repository: want exit 2, got $rc2"; }
[ "$(r "$REPO" snapshots --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 8 ] ||
  fail "a refused request must not write a snapshot"

step "restic check --read-data after all of it"
restic_check_clean "$REPO" --read-data
stop_server
echo "PASS"
