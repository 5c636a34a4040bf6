#!/usr/bin/env bash
# forget --prune both ways: restic pruning a clawback repository, clawback pruning a restic
# repository; `restic check --read-data` must stay clean and the kept snapshot restorable.
source "$(dirname "$0")/lib.sh"

src=$WORK/src
make_tree "$src"
mutate() {  # changes that leave garbage behind once old snapshots go
  head -c 800000 /dev/urandom >"$src/sub/random.bin"
  rm -f "$src/sub/text.log"
  head -c 300000 /dev/urandom >"$src/new-$1.bin"
}

step "clawback writes 3 snapshots; restic forget --keep-last 1 --prune"
repo=$WORK/cb-repo
cb "$repo" repo init >/dev/null
cb "$repo" snapshot "$src" >/dev/null
mutate 1
cb "$repo" snapshot "$src" >/dev/null
mutate 2
cb "$repo" snapshot "$src" >/dev/null
r "$repo" forget --keep-last 1 --prune >/dev/null
restic_check_clean "$repo" --read-data
cb "$repo" check --read-data >/dev/null || fail "clawback check after restic prune"
cb "$repo" restore latest --target "$WORK/out1" >/dev/null
same_tree "$src" "$(restored "$WORK/out1" "$src")"

step "restic writes 3 snapshots; clawback forget --keep-last 1 --prune"
make_tree "$WORK/src2"
src=$WORK/src2
repo=$WORK/restic-repo
restic -r "$repo" init -q
r "$repo" backup "$src"
mutate 3
r "$repo" backup "$src"
mutate 4
r "$repo" backup "$src"
size_before=$(du -sb "$repo/data" | cut -f1)
cb "$repo" forget --keep-last 1 --prune --dry-run >"$WORK/dry.out"
grep -q "would remove 2 snapshots" "$WORK/dry.out" || { cat "$WORK/dry.out" >&2; fail "dry run did not plan 2 removals"; }
[ "$(r "$repo" snapshots --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 3 ] ||
  fail "dry run removed something"
cb "$repo" forget --keep-last 1 --prune >/dev/null
[ "$(r "$repo" snapshots --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] ||
  fail "forget did not leave exactly one snapshot"
size_after=$(du -sb "$repo/data" | cut -f1)
[ "$size_after" -lt "$size_before" ] || fail "prune freed nothing ($size_before -> $size_after)"
restic_check_clean "$repo" --read-data
r "$repo" restore latest --target "$WORK/out2"
same_tree "$src" "$(restored "$WORK/out2" "$src")"
cb "$repo" prune >"$WORK/prune2.out"
grep -q "0 deleted, 0 repacked" "$WORK/prune2.out" || { cat "$WORK/prune2.out" >&2; fail "second prune was not a no-op"; }
echo PASS
