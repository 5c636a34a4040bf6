#!/usr/bin/env bash
# `clawback learn templates --log-format` with a format of the published benchmarks' shape
# (optional `[pid]`, a double space before one-digit days) on a syslog written here: every
# message gets its own template, and the lines that do not match the format are reported on
# stderr and in --json, left out of mining, and written to --csv with an empty EventId; the
# same ids come out when the lines are mined in small batches.
# usage: log_format_cli_test.sh CLAWBACK
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log=$tmp/syslog
{
  for d in 9 10 11; do
    printf 'Jun %2d 06:06:2%d combo sshd[2%d81]: session opened for user ann by (uid=0)\n' $d $d $d
    printf 'Jun %2d 06:06:2%d combo kernel: eth0: link up, 10%d Mbps full duplex\n' $d $d $d
    printf 'Jun %2d 07:16:2%d combo crond[11%d1]: (root) CMD (run-parts /etc/cron.hourly)\n' $d $d $d
    printf 'Jun %2d 07:17:2%d combo ntpd: synchronized to 10.0.0.%d, stratum 2\n' $d $d $d
    printf 'Jun %2d 07:18:2%d combo su(pam_unix)[9%d]: session closed for user root\n' $d $d $d
  done
  echo '-- MARK --'
  echo 'garbage without a colon'
} >"$log"
fmt='<Month>  <Day> <Time> <Host> <Proc>(\[<Pid>\])?: <Content>'
"$bin" --data-dir "$tmp/data" --json learn templates --no-state --log-format "$fmt" \
  --csv "$tmp/out.csv" "$log" >"$tmp/out.json" 2>"$tmp/err"
cat "$tmp/err"
grep -q '2 of 17 lines did not match --log-format' "$tmp/err"
grep -q "syslog:16: -- MARK --" "$tmp/err"
python3 - "$tmp/out.json" "$tmp/out.csv" <<'PY'
import csv, json, sys
j = json.load(open(sys.argv[1]))
want = {
    "session opened for user ann by (uid=<*>)",
    "eth0: link up, <*> Mbps full duplex",
    "(root) CMD (run-parts <*>)",
    "synchronized to <*>, stratum <*>",
    "session closed for user root",
}
got = {t["template"] for t in j["templates"]}
assert got == want, got
assert all(t["count"] == 3 for t in j["templates"]), j["templates"]
assert j["lines"] == 17 and j["unmatched_format"] == 2, j
ex = j["unmatched_examples"]
assert [e["line"].rsplit(":", 1)[1] for e in ex] == ["16", "17"], ex
assert ex[0]["text"] == "-- MARK --", ex
rows = list(csv.DictReader(open(sys.argv[2])))
assert len(rows) == 17, len(rows)
assert [r["EventId"] for r in rows[15:]] == ["", ""], rows[15:]
assert all(r["EventId"] for r in rows[:15])
print("ok:", len(got), "templates, 2 unmatched lines reported")
PY
# Small batches join the templates of the batches before them: the same ids per line.
"$bin" --data-dir "$tmp/data" learn templates --no-state --batch 4 --log-format "$fmt" \
  --csv "$tmp/batch4.csv" "$log" >/dev/null 2>&1
cmp <(cut -d, -f2 "$tmp/out.csv") <(cut -d, -f2 "$tmp/batch4.csv")
# A malformed format is an error that names it.
if "$bin" --data-dir "$tmp/data" learn templates --no-state --log-format '<Date> ( <Content>' \
  "$log" >/dev/null 2>"$tmp/err2"; then
  echo "a malformed --log-format was accepted" >&2; exit 1
fi
grep -q "not a valid regular expression" "$tmp/err2"
