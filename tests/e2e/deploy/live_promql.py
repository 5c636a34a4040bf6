#!/usr/bin/env python3
"""Runs every PromQL expression (one JSON object a line: {"where", "expr"}) against a live
Prometheus and fails on any evaluation error. Then checks that clawback's own series return
data. Usage: live_promql.py PROM_URL PROMQL_JSONL"""
import json
import sys
import urllib.parse
import urllib.request

prom, path = sys.argv[1], sys.argv[2]


def query(expr):
    data = urllib.parse.urlencode({"query": expr}).encode()
    try:
        with urllib.request.urlopen(prom + "/api/v1/query", data=data, timeout=10) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        return json.load(e)


failures = 0
count = 0
for line in open(path):
    q = json.loads(line)
    expr = (q["expr"].replace("$__rate_interval", "1m").replace("$__interval", "1m")
            .replace("$__range", "1h"))
    res = query(expr)
    count += 1
    if res.get("status") != "success":
        failures += 1
        print(f"FAIL {q['where']}: {res.get('error')}: {expr}", file=sys.stderr)

for must in ['clawback_build_info', 'up{job="clawback"} == 1',
             'clawback_http_requests_total', 'clawback_ingest_latency_seconds_bucket',
             'clawback:http_requests:rate5m', 'clawback_ingest_events_stored_total', 'clawback_ledger_size_bytes']:
    res = query(must)
    if res.get("status") != "success" or not res["data"]["result"]:
        failures += 1
        print(f"FAIL clawback series {must} returned no data", file=sys.stderr)

print(f"{count} PromQL expressions evaluated against a live Prometheus, {failures} problems")
sys.exit(1 if failures else 0)
