#!/usr/bin/env bash
# A repository clawback created and wrote is a valid restic repository:
# `restic check --read-data` finds no errors, `restic snapshots` shows our tags, and
# `restic restore` reproduces the tree byte for byte (modes, mtimes, symlinks, odd names,
# hard links). Also: clawback's own restore, an unchanged re-snapshot that reads nothing.
source "$(dirname "$0")/lib.sh"

repo=$WORK/repo
src=$WORK/src
make_tree "$src"

step "clawback repo init + snapshot"
cb "$repo" repo init >/dev/null
conv=0190b5c8-7d1e-7a3b-9c2d-1e2f3a4b5c6d
cb "$repo" snapshot "$src" --tag env=test --conversation $conv --reason pre >/dev/null

step "restic check --read-data"
restic_check_clean "$repo" --read-data

step "restic snapshots shows the tags"
r "$repo" snapshots --json >"$WORK/snaps.json"
python3 - "$WORK/snaps.json" "$src" "$conv" <<'PY' || fail "restic snapshots --json did not show our snapshot and tags"
import json, sys
snaps = json.load(open(sys.argv[1]))
assert len(snaps) == 1, snaps
s = snaps[0]
assert s["paths"] == [sys.argv[2]], s["paths"]
for t in ["env=test", "conversation=" + sys.argv[3], "reason=pre"]:
    assert t in s["tags"], (t, s["tags"])
PY

step "restic restore is byte-identical"
r "$repo" restore latest --target "$WORK/restic-out"
same_tree "$src" "$(restored "$WORK/restic-out" "$src")"

step "clawback restore --verify is byte-identical"
cb "$repo" restore latest --target "$WORK/cb-out" --verify >/dev/null
same_tree "$src" "$(restored "$WORK/cb-out" "$src")"

step "unchanged re-snapshot reads nothing and adds no data"
blobs_before=$(data_blob_count "$repo")
"$CLAWBACK" --json snapshot "$src" --repo "$repo" | tail -1 >"$WORK/summary.json"
python3 - "$WORK/summary.json" <<'PY' || fail "unchanged re-snapshot re-read or added data"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["files_new"] == 0 and s["files_changed"] == 0, s
assert s["data_blobs"] == 0, s
assert s["parent"], s
PY
[ "$(data_blob_count "$repo")" = "$blobs_before" ] || fail "data blob count changed"

step "change one file: a new snapshot, diff shows it, restic still checks clean"
printf 'changed\n' >>"$src/hello.txt"
cb "$repo" snapshot "$src" >/dev/null
"$CLAWBACK" --json diff --repo "$repo" "$(r "$repo" snapshots --json | python3 -c 'import json,sys; print(sorted(json.load(sys.stdin), key=lambda s: s["time"])[1]["id"])')" latest >"$WORK/diff.json"
grep -q '"change":"modified"' "$WORK/diff.json" || { cat "$WORK/diff.json" >&2; fail "diff did not report the modified file"; }
grep -q 'hello.txt' "$WORK/diff.json" || fail "diff did not name hello.txt"
restic_check_clean "$repo" --read-data
r "$repo" restore latest --target "$WORK/restic-out2"
same_tree "$src" "$(restored "$WORK/restic-out2" "$src")"
[ -z "$(ls "$repo/locks")" ] || fail "clawback left a lock behind"
echo PASS
