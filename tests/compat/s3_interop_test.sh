#!/usr/bin/env bash
# restic interop over S3, both directions, through the CLI: a throw-away s3rver (npm) on
# 127.0.0.1 over HTTPS with a certificate made by openssl for this run
# (tests/support/s3rver-start); restic gets the CA with --cacert, clawback with
# $CLAWBACK_S3_CA_FILE. Nothing leaves the machine. Skipped (77) without restic, node or an
# installed s3rver (scripts/install-deps / a first tests/support/s3rver-start installs it).
#
#   clawback writes (repo init, two snapshots) -> restic check --read-data, restic
#     snapshots (tags), restic restore byte for byte; clawback restore and check --read-data.
#   restic writes (init, backup) -> clawback snapshots, restore byte for byte,
#     check --read-data; a clawback snapshot of the same data adds no data blobs; restic
#     check --read-data still clean afterwards.
source "$(dirname "$0")/lib.sh"

SRC=${CLAWBACK_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v node >/dev/null 2>&1 || { echo "SKIP: node is not installed" >&2; exit 77; }
command -v openssl >/dev/null 2>&1 || { echo "SKIP: openssl is not installed" >&2; exit 77; }
S3RVER_CACHE=${S3RVER_CACHE:-$SRC/.cache/s3rver}
if [ ! -f "$S3RVER_CACHE/node_modules/s3rver/bin/s3rver.js" ]; then
  echo "SKIP: s3rver is not installed in $S3RVER_CACHE (tests never download it; run" \
    "tests/support/s3rver-start once with network access, or scripts/install-deps)" >&2
  exit 77
fi
export S3RVER_CACHE

S3DIR=$WORK/s3
stop_s3() { [ -d "$S3DIR" ] && "$SRC/tests/support/s3rver-stop" "$S3DIR" >/dev/null 2>&1 || true; }
trap 'stop_s3; cleanup' EXIT

step "start s3rver over HTTPS with a fresh self-signed certificate"
S3RVER_PARENT_PID=$$ S3RVER_MAX_SECONDS=600 "$SRC/tests/support/s3rver-start" "$S3DIR" >"$WORK/s3.env" ||
  fail "s3rver-start failed"
eval "$(cat "$WORK/s3.env")"
[ -n "$S3_CA_FILE" ] && [ -f "$S3_CA_FILE" ] || fail "no CA file from s3rver-start"
case "$S3_ENDPOINT" in https://127.0.0.1:*) ;; *) fail "unexpected endpoint $S3_ENDPOINT" ;; esac
openssl x509 -in "$S3_CA_FILE" -noout -subject | grep -q 127.0.0.1 || fail "certificate subject"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
export CLAWBACK_S3_CA_FILE=$S3_CA_FILE
# Every restic call here (lib.sh's r and restic_check_clean too) trusts only that CA.
restic() { command restic --cacert "$S3_CA_FILE" "$@"; }

CB_REPO="s3:$S3_ENDPOINT/$S3_BUCKET/written-by-clawback"
RS_REPO="s3:$S3_ENDPOINT/$S3_BUCKET/written-by-restic"

step "clawback writes: repo init, snapshot, changed snapshot"
make_tree "$WORK/data"
cb "$CB_REPO" repo init >/dev/null || fail "clawback repo init over S3"
cb "$CB_REPO" snapshot "$WORK/data" --tag env=s3 --reason pre >/dev/null || fail "clawback snapshot over S3"
printf 'more\n' >>"$WORK/data/sub/text.log"
"$CLAWBACK" --json snapshot "$WORK/data" --tag env=s3 --repo "$CB_REPO" >"$WORK/cb-snap2.json" ||
  fail "second clawback snapshot over S3"
SNAP2=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["snapshot_id"])' "$WORK/cb-snap2.json")

step "restic reads it: check --read-data, snapshots with tags, restore"
restic_check_clean "$CB_REPO" --read-data
r "$CB_REPO" snapshots --json >"$WORK/cb-snaps.json"
python3 - "$WORK/cb-snaps.json" "$SNAP2" <<'EOF' || fail "restic does not list clawback's snapshots with their tags"
import json, sys
snaps = json.load(open(sys.argv[1]))
assert len(snaps) == 2, snaps
assert any(s["id"] == sys.argv[2] for s in snaps), snaps
assert all("env=s3" in (s.get("tags") or []) for s in snaps), snaps
assert any("reason=pre" in (s.get("tags") or []) for s in snaps), snaps
EOF
r "$CB_REPO" restore "$SNAP2" --target "$WORK/restic-restore" >/dev/null || fail "restic restore from S3"
same_tree "$WORK/data" "$(restored "$WORK/restic-restore" "$WORK/data")"

step "clawback reads its own back over S3: restore, check --read-data"
cb "$CB_REPO" restore latest --target "$WORK/cb-restore" >/dev/null || fail "clawback restore over S3"
same_tree "$WORK/data" "$(restored "$WORK/cb-restore" "$WORK/data")"
cb "$CB_REPO" check --read-data >"$WORK/cb-check1.out" 2>&1 || { cat "$WORK/cb-check1.out" >&2; fail "clawback check"; }

step "restic writes: init, backup"
make_tree "$WORK/data2"
head -c 3000000 /dev/urandom >"$WORK/data2/big.bin"
r "$RS_REPO" init >/dev/null || fail "restic init over S3"
r "$RS_REPO" backup "$WORK/data2" --tag by=restic >/dev/null || fail "restic backup over S3"
BLOBS_BEFORE=$(data_blob_count "$RS_REPO")

step "clawback reads it: snapshots, restore, check --read-data"
"$CLAWBACK" --json snapshots --repo "$RS_REPO" >"$WORK/rs-snaps.json" || fail "clawback snapshots over S3"
python3 - "$WORK/rs-snaps.json" <<'EOF' || fail "clawback does not list restic's snapshot"
import json, sys
snaps = json.load(open(sys.argv[1]))
assert len(snaps) == 1 and "by=restic" in snaps[0]["tags"], snaps
EOF
cb "$RS_REPO" restore latest --target "$WORK/cb-restore2" >/dev/null || fail "clawback restore of restic's repo"
same_tree "$WORK/data2" "$(restored "$WORK/cb-restore2" "$WORK/data2")"
cb "$RS_REPO" check --read-data >"$WORK/cb-check2.out" 2>&1 || { cat "$WORK/cb-check2.out" >&2; fail "clawback check --read-data of restic's repo"; }

step "a clawback snapshot of the same data adds no data blobs"
"$CLAWBACK" --json snapshot "$WORK/data2" --force --repo "$RS_REPO" >"$WORK/rs-cb-snap.json" ||
  fail "clawback snapshot into restic's repo"
python3 - "$WORK/rs-cb-snap.json" <<'EOF' || fail "clawback stored data restic had already stored"
import json, sys
d = json.loads(open(sys.argv[1]).read().splitlines()[-1])
assert d["data_blobs"] == 0 and d["files_new"] + d["files_changed"] > 0, d
EOF
[ "$(data_blob_count "$RS_REPO")" = "$BLOBS_BEFORE" ] || fail "the data blob count changed"
restic_check_clean "$RS_REPO" --read-data
echo "PASS"
