#!/usr/bin/env bash
# `clawback env list|show|check` as a new user meets them: a fresh data dir with no
# environment, one declared with a service whose health check passes only once a file
# exists, a typo and a path holding the data dir refused by every command (exit 2, naming
# the key), an unknown name (exit 3, the nearest name), and `check` changing nothing.
# usage: env_cli_test.sh CLAWBACK
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cb() { "$bin" --data-dir "$tmp/data" "$@"; }
expect_exit() {  # CODE CMD...: runs CMD, which must exit CODE; its stderr is in $tmp/err
  local want=$1; shift
  set +e; "$@" >"$tmp/out" 2>"$tmp/err"; local got=$?; set -e
  if [ "$got" != "$want" ]; then
    echo "expected exit $want, got $got: $*"; cat "$tmp/out" "$tmp/err"; exit 1
  fi
}
cb init >/dev/null 2>&1
cb env list | grep -q "No environments. Declare one in $tmp/data/config.toml"
[ "$(cb --json env list)" = "[]" ]

mkdir -p "$tmp/srv/config" "$tmp/srv/gitops"
git -C "$tmp/srv/gitops" init -q
cp "$tmp/data/config.toml" "$tmp/config.base"
cat >>"$tmp/data/config.toml" <<TOML

[environments.prod]
paths   = ["$tmp/srv/config/"]
git     = ["$tmp/srv/gitops"]
dumps   = [{ name = "db", dump = "cat $tmp/srv/db", load = "tee $tmp/srv/db" }]
deploy  = "touch $tmp/srv/deployed"
health  = [{ command = "test -f $tmp/srv/config/ready", timeout = "600ms", interval = "100ms" }]
TOML
cb env list | grep -q "^prod  1      1    1      yes     1       $tmp/srv/config, $tmp/srv/gitops$"
cb --json env show prod | python3 -c '
import json, sys
e = json.load(sys.stdin)
assert e["name"] == "prod", e
assert e["paths"] == [sys.argv[1] + "/srv/config"], e["paths"]
assert e["health"][0]["timeout_ms"] == 600 and e["health"][0]["interval_ms"] == 100, e
assert e["protect_agents"] == "all", e
' "$tmp"

# Not ready: the health check fails after its retries, exit 6, and nothing was run.
expect_exit 6 cb env check prod
grep -q "^FAIL  health command: test -f $tmp/srv/config/ready: exit 1 (.* tries in" "$tmp/out"
grep -q "^ok    git $tmp/srv/gitops: work tree" "$tmp/out"
grep -q "environment prod: 1 of 6 checks failed" "$tmp/err"
[ ! -e "$tmp/srv/deployed" ] && [ ! -e "$tmp/srv/db" ]
touch "$tmp/srv/config/ready"
cb --json env check prod | python3 -c '
import json, sys
c = json.load(sys.stdin)
assert c["ok"] is True, c
assert [i["ok"] for i in c["checks"]] == [True] * 6, c
'
expect_exit 3 cb env show prdo
grep -q 'no environment "prdo" (did you mean prod?); config.toml defines: prod' "$tmp/err"

# A typo and a path holding the data dir: refused by every command, naming file and key.
cp "$tmp/data/config.toml" "$tmp/config.good"
printf '\n[environments.dev]\npath = ["/srv/dev"]\n' >>"$tmp/data/config.toml"
expect_exit 2 cb conversation list
grep -q "config.toml:[0-9]*: environments.dev.path: unknown key (did you mean paths?)" "$tmp/err"
cp "$tmp/config.good" "$tmp/data/config.toml"
printf '\n[environments.dev]\npaths = ["%s"]\n' "$tmp" >>"$tmp/data/config.toml"
expect_exit 2 cb env list
grep -q "environments.dev.paths: \"$tmp\" holds clawback's own data dir $tmp/data" "$tmp/err"
echo "env CLI: ok"
