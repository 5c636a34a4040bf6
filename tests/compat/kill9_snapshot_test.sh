#!/usr/bin/env bash
# kill -9 of `clawback snapshot` at random moments, 20 times: after each, the stale lock is
# removed with `clawback unlock` and `restic check` must find no errors; at the end a full
# snapshot succeeds, `restic check --read-data` is clean, and `clawback prune` removes the
# temporary files the killed runs left.
source "$(dirname "$0")/lib.sh"

root=${CLAWBACK_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
src=$WORK/data
"$root/bench/store/gen-data" "$src" --scale 0.04 --seed 3 >/dev/null
repo=$WORK/repo
cb "$repo" repo init >/dev/null
RANDOM=42
# How long one whole snapshot takes on this machine (re-reading everything, as the killed
# runs do), so the kills land inside a run however fast or loaded the machine is.
t0=$(date +%s.%N)
cb "$repo" snapshot "$src" --force >/dev/null
t1=$(date +%s.%N)
span=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
echo "an uninterrupted snapshot takes ${span}s; killing at random points inside that"
kills=0
attempts=0
# Until 20 runs were killed mid-way (at most 60 tries): a run that finished before its kill
# means the span is shorter now (a warm cache, a quieter machine), so shrink it.
while [ $kills -lt 20 ] && [ $attempts -lt 60 ]; do
  attempts=$((attempts + 1))
  head -c 200000 /dev/urandom >"$src/random/round-$attempts.bin"  # new data each round
  "$CLAWBACK" snapshot "$src" --force --repo "$repo" >/dev/null 2>&1 &
  pid=$!
  # Anywhere from 2% to 90% of a run: opening (KDF), walking, pack uploads, index and
  # snapshot writes.
  sleep "$(awk -v r=$RANDOM -v t="$span" 'BEGIN { printf "%.3f", t * (0.02 + (r % 1000) / 1000 * 0.88) }')"
  kill -9 $pid 2>/dev/null || true
  rc=0
  wait $pid 2>/dev/null || rc=$?
  if [ $rc -eq 137 ]; then  # SIGKILL ended it: killed mid-way
    kills=$((kills + 1))
  else
    span=$(awk -v t="$span" 'BEGIN { printf "%.3f", t * 0.8 }')
  fi
  cb "$repo" unlock >/dev/null
  restic_check_clean "$repo"
done
echo "killed $kills runs mid-way in $attempts attempts"
[ $kills -ge 20 ] || fail "only $kills runs were killed mid-way; the test did not exercise crashes"
step "a snapshot after the crashes succeeds and everything reads back"
cb "$repo" snapshot "$src" >/dev/null
restic_check_clean "$repo" --read-data
step "prune removes the temporary files the killed runs left, and nothing else"
temps=$(find "$repo" -type f \( -name 'tmp-*' -o -name '*-tmp-*' \) | wc -l)
echo "temporary files left by the killed runs: $temps"
cb "$repo" prune >"$WORK/prune.out"
cat "$WORK/prune.out"
left=$(find "$repo" -type f \( -name 'tmp-*' -o -name '*-tmp-*' \) | wc -l)
[ "$left" -eq 0 ] || fail "$left temporary files remain after prune"
if [ "$temps" -gt 0 ]; then
  grep -q "removed $temps temporary files" "$WORK/prune.out" || fail "prune did not report the $temps temporary files"
fi
restic_check_clean "$repo" --read-data
cb "$repo" restore latest --target "$WORK/out" >/dev/null
same_tree "$src" "$(restored "$WORK/out" "$src")"
echo PASS
