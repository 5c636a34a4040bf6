#!/usr/bin/env bash
# Issue #6 "done when", tried as a new user through the CLI binary: three deployments whose
# logs share a failure signature, each rolled back; a fourth with the same signature gets
# that rollback ranked first, citing the three; a deployment with unrelated logs gets no
# confident recommendation. Also: a failed health check records a learn.recommendation
# event, and the index survives across processes.
# usage: learn_cli_test.sh CLAWBACK_BINARY
set -euo pipefail
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CLAWBACK_HOME="$work/data"
unset CLAWBACK_SERVER CLAWBACK_CONVERSATION_ID
cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

"$bin" init >/dev/null

signature_log() {  # $1: variant
  for j in $(seq 1 25); do
    echo "2026-03-0$1 10:00:$((j % 60)) INFO http: GET /api/items/$((RANDOM % 900 + 100)) 200 in $((j % 9 + 1))ms"
    echo "2026-03-0$1 10:00:$((j % 60)) INFO worker: job $((RANDOM)) done in $((j % 5 + 1))s"
  done
  for j in $(seq 1 6); do
    echo "2026-03-0$1 10:01:0$j ERROR config: cannot parse /etc/app/app.toml: unknown key 'pool_size' at line $(( $1 + 10 ))"
    echo "2026-03-0$1 10:01:0$j ERROR http: upstream returned 502 for /api/items/$((RANDOM % 900 + 100))"
  done
}

rolled=()
for i in 1 2 3; do
  id=$("$bin" deploy start --env prod --commit "abc00$i" --service api)
  signature_log "$i" > "bad$i.log"
  "$bin" learn ingest --deployment "$id" "bad$i.log" >/dev/null
  "$bin" deploy check "$id" --name smoke --failed --message "HTTP 502" >/dev/null
  "$bin" deploy finish "$id" --status rolled_back >/dev/null
  rolled+=("$id")
done

fourth=$("$bin" deploy start --env prod --commit abc004 --service api)
signature_log 4 > bad4.log
"$bin" learn ingest --deployment "$fourth" bad4.log >/dev/null
# The health check fails: advice is computed and recorded on the deployment's conversation.
check=$("$bin" --json deploy check "$fourth" --name smoke --failed --message "HTTP 502")
[ "$(echo "$check" | json 'd["recommendation"]["actions"][0]["action"]')" = rollback ] ||
  fail "the failed check's recommendation is not a rollback: $check"
conv=$("$bin" --json deploy show "$fourth" | json 'd["conversation_id"]')
"$bin" --json trace "$conv" | json '[e["kind"] for e in d["events"]]' | grep -q "learn.recommendation" ||
  fail "no learn.recommendation event on conversation $conv"

rec=$("$bin" --json recommend --deployment "$fourth")
[ "$(echo "$rec" | json 'd["confident"]')" = True ] || fail "not confident: $rec"
[ "$(echo "$rec" | json 'd["actions"][0]["action"]')" = rollback ] || fail "rollback is not first: $rec"
echo "$rec" | json 'd["actions"][0]["text"]' | grep -q "$fourth" || fail "the action does not name the deployment: $rec"
for id in "${rolled[@]}"; do
  echo "$rec" | json '" ".join(d["actions"][0]["evidence"])' | grep -q "$id" || fail "evidence does not cite $id: $rec"
  echo "$rec" | json '" ".join(c["deployment_id"] for c in d["similar"][:3])' | grep -q "$id" ||
    fail "$id is not among the three most similar: $rec"
done
# By conversation: its latest deployment.
[ "$("$bin" --json recommend --conversation "$conv" | json 'd["actions"][0]["action"]')" = rollback ] ||
  fail "recommend --conversation does not give the rollback"
# The human form says the same.
"$bin" recommend --deployment "$fourth" | grep -q "^  1. roll back deployment $fourth" ||
  fail "human output does not rank the rollback first"

# Unrelated logs: no confident recommendation.
other=$("$bin" deploy start --env prod --commit abc005)
printf '%s\n' "kernel: eth0 link up 1000Mbps full duplex" \
  "systemd[1]: Started Daily apt download activities." \
  "cron[812]: (root) CMD (run-parts /etc/cron.hourly)" > other.log
"$bin" learn ingest --deployment "$other" other.log >/dev/null
rec5=$("$bin" --json recommend --deployment "$other")
[ "$(echo "$rec5" | json 'd["confident"]')" = False ] || fail "unrelated logs got a confident recommendation: $rec5"
"$bin" recommend --deployment "$other" | grep -q "No confident recommendation" || fail "human output for unrelated logs"

# The index kept every situation across the processes above.
[ "$("$bin" --json learn reindex | json 'd["indexed"]')" = 5 ] || fail "index does not hold 5 situations"
[ -s "$CLAWBACK_HOME/learn/index/situations.hnsw" ] || fail "no HNSW file in the data dir"

# Risk check names the failure signature.
"$bin" --json recommend --risk --env prod | json '" ".join(t["template"] for t in d["templates"])' |
  grep -q "cannot parse" || fail "risk check does not name the config error"

# GET /v1/recommendations?deployment=ID on `clawback serve` (viewer token), same advice.
token=$("$bin" token create --role viewer --name learn-test | tail -n 1 | awk '{print $NF}')
"$bin" serve --listen 127.0.0.1:0 > serve.out 2> serve.err &
serve_pid=$!
trap 'kill $serve_pid 2>/dev/null || true; wait $serve_pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do grep -q "listening on" serve.out 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' serve.out)
[ -n "$url" ] || fail "serve did not start: $(cat serve.err)"
api=$(python3 - "$url/v1/recommendations?deployment=$fourth" "$token" <<'PY'
import sys, urllib.request
req = urllib.request.Request(sys.argv[1], headers={"Authorization": "Bearer " + sys.argv[2]})
print(urllib.request.urlopen(req, timeout=10).read().decode())
PY
)
[ "$(echo "$api" | json 'd["actions"][0]["action"]')" = rollback ] || fail "GET /v1/recommendations: $api"
code=$(python3 - "$url/v1/recommendations?deployment=nope" "$token" <<'PY'
import sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[1], headers={"Authorization": "Bearer " + sys.argv[2]})
try:
    urllib.request.urlopen(req, timeout=10); print(200)
except urllib.error.HTTPError as e:
    print(e.code)
PY
)
[ "$code" = 400 ] || fail "a bad deployment id answered $code"
kill $serve_pid; wait $serve_pid 2>/dev/null || true

# Clear errors.
set +e
"$bin" recommend --deployment not-a-uuid >/dev/null 2>err.txt; rc=$?
set -e
[ "$rc" -ne 0 ] && grep -q "deployment id" err.txt || fail "bad id: rc=$rc $(cat err.txt)"
set +e
"$bin" recommend >/dev/null 2>err.txt; rc=$?
set -e
[ "$rc" -ne 0 ] && grep -q "exactly one of" err.txt || fail "no subject: rc=$rc $(cat err.txt)"
echo "ok"
