#!/usr/bin/env bash
# Runs every SQL query of the dashboards (ledger datasource: variables, annotations, panels)
# against a real PostgreSQL ledger migrated by clawback itself, with Grafana's macros and
# variables substituted. Needs CLAWBACK_TEST_PG_URL (scripts/with-postgres sets it).
# Usage: check_ledger_sql.sh CLAWBACK_BINARY REPO_ROOT
set -euo pipefail
bin=$1 root=$2
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
mkdir -p "$d/h"
printf '[ledger]\nurl = "%s"\n' "$CLAWBACK_TEST_PG_URL" > "$d/h/config.toml"
"$bin" --data-dir "$d/h" ledger migrate >/dev/null
python3 - "$root/deploy/grafana/dashboards" > "$d/q.sql" <<'PY'
import glob, json, os, sys
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    d = json.load(open(f))
    qs = [v["query"] for v in d.get("templating", {}).get("list", [])
          if v.get("datasource", {}).get("uid") == "clawback-ledger"]
    qs += [a["target"]["rawSql"] for a in d.get("annotations", {}).get("list", [])
           if a.get("datasource", {}).get("uid") == "clawback-ledger"]
    qs += [t["rawSql"] for p in d["panels"] for t in p.get("targets", []) if "rawSql" in t]
    for q in qs:
        q = (q.replace("${conversation_id}", "01a21b47-71fc-715b-ba98-56a0602bdd4e")
              .replace("'${environment:regex}'", "'.*'")
              .replace("$__unixEpochFrom()", "0").replace("$__unixEpochTo()", "2000000000"))
        print(q + ";")
PY
psql -v ON_ERROR_STOP=1 -q "$CLAWBACK_TEST_PG_URL" -f "$d/q.sql" >/dev/null
echo "all dashboard SQL runs on a PostgreSQL ledger ($(grep -c ';$' "$d/q.sql") statements)"
