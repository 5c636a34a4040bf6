#!/usr/bin/env bash
# A repository restic created and wrote: clawback lists it, restores it byte for byte,
# re-snapshots the same data without adding data blobs (same chunker, same polynomial),
# `clawback check --read-data` passes, and restic still checks clean afterwards.
source "$(dirname "$0")/lib.sh"

repo=$WORK/repo
src=$WORK/src
make_tree "$src"

step "restic init + backup"
restic -r "$repo" init -q
r "$repo" backup "$src" --tag made-by=restic
rid=$(r "$repo" snapshots --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')

step "clawback snapshots lists it"
"$CLAWBACK" --json snapshots --repo "$repo" >"$WORK/snaps.json"
python3 - "$WORK/snaps.json" "$rid" <<'PY' || fail "clawback snapshots did not list restic's snapshot"
import json, sys
snaps = json.load(open(sys.argv[1]))
assert [s["id"] for s in snaps] == [sys.argv[2]], snaps
assert "made-by=restic" in snaps[0]["tags"]
PY
"$CLAWBACK" snapshots --repo "$repo" | grep -q "${rid:0:8}" || fail "text listing lacks the id"

step "clawback restore is byte-identical"
cb "$repo" restore "${rid:0:8}" --target "$WORK/cb-out" --verify >/dev/null
same_tree "$src" "$(restored "$WORK/cb-out" "$src")"

step "clawback check --read-data passes"
cb "$repo" check --read-data >"$WORK/cbcheck.out" 2>&1 || { cat "$WORK/cbcheck.out" >&2; fail "clawback check failed"; }

step "clawback snapshot of the same data adds no data blobs"
before=$(data_blob_count "$repo")
"$CLAWBACK" --json snapshot "$src" --repo "$repo" --force | tail -1 >"$WORK/summary.json"
python3 - "$WORK/summary.json" <<'PY' || fail "clawback stored data restic already had"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["data_blobs"] == 0, s
assert s["files_new"] + s["files_changed"] > 0, s   # --force: everything was read
PY
[ "$(data_blob_count "$repo")" = "$before" ] || fail "data blob count changed"

step "restic check --read-data still passes and restic restores our snapshot"
restic_check_clean "$repo" --read-data
r "$repo" restore latest --target "$WORK/restic-out"
same_tree "$src" "$(restored "$WORK/restic-out" "$src")"

step "wrong password: exit 12 with a clear message"
printf 'wrong' >"$WORK/wrong"
set +e
"$CLAWBACK" snapshots --repo "$repo" --password-file "$WORK/wrong" 2>"$WORK/err"
rc=$?
set -e
[ $rc -eq 12 ] || fail "wrong password exited $rc, expected 12"
grep -qi "wrong password" "$WORK/err" || fail "no clear wrong-password message: $(cat "$WORK/err")"
echo PASS
