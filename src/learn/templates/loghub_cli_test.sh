#!/usr/bin/env bash
# Runs `clawback learn templates` on one Loghub 2k system with its log format only (default
# miner settings) and fails unless score.py's GA and PA reach the given floors.
# usage: loghub_cli_test.sh CLAWBACK LOGHUB_DIR SYSTEM MIN_GA MIN_PA
set -euo pipefail
bin=$1 data=$2 sys=$3 min_ga=$4 min_pa=$5
if [ ! -f "$data/benchmark_settings.json" ]; then
  echo "SKIP: Loghub data not found at $data" >&2
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fmt=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["settings"][sys.argv[2]]["log_format"])' \
  "$data/benchmark_settings.json" "$sys")
"$bin" --data-dir "$tmp/data" learn templates --log-format "$fmt" --csv "$tmp/pred.csv" \
  --state "$tmp/state.json" "$data/$sys/${sys}_2k.log"
python3 "$data/score.py" "$tmp/pred.csv" "$data/$sys/${sys}_2k.log_structured_corrected.csv" \
  --json >"$tmp/score.json"
cat "$tmp/score.json"
python3 - "$tmp/score.json" "$min_ga" "$min_pa" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ga, pa = r["GA"], r["PA"]
ok = ga >= float(sys.argv[2]) and pa >= float(sys.argv[3])
print(f"GA {ga:.3f} (floor {sys.argv[2]}), PA {pa:.3f} (floor {sys.argv[3]}):", "ok" if ok else "BELOW FLOOR")
sys.exit(0 if ok else 1)
PY
# The state file holds the templates, so a second run keeps every id.
ids1=$(cut -d, -f2 "$tmp/pred.csv" | sort -u | md5sum)
"$bin" --data-dir "$tmp/data" learn templates --log-format "$fmt" --csv "$tmp/pred2.csv" \
  --state "$tmp/state.json" "$data/$sys/${sys}_2k.log" >/dev/null
ids2=$(cut -d, -f2 "$tmp/pred2.csv" | sort -u | md5sum)
cmp <(cut -d, -f1,2 "$tmp/pred.csv") <(cut -d, -f1,2 "$tmp/pred2.csv") || {
  echo "template ids changed between runs with the same state" >&2; exit 1; }
[ "$ids1" = "$ids2" ]
echo "ids stable across runs"
