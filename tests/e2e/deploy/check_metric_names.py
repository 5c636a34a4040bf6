#!/usr/bin/env python3
"""Every clawback_* series that the deploy bundle and the docs name exists in a live
`clawback serve`'s /metrics, with the labels they select on.

Collects the names from alert and recording rule expressions and the rule tests'
input series (deploy/prometheus), from every dashboard and provisioned query
(deploy/grafana), and from the docs (README.md, docs/, integrations/*/README.md,
deploy/**/*.md). Recording-rule outputs (clawback:...) and other exporters' metrics (up,
node_*, container_*) are not clawback's and are left out by the name pattern.

Usage: check_metric_names.py REPO_ROOT METRICS_TEXT
METRICS_TEXT is a scrape of GET /metrics (Prometheus text format) taken after some traffic,
so that labelled families have series.
"""
import glob
import json
import os
import re
import sys

import yaml

root, metrics_path = sys.argv[1], sys.argv[2]

# Names that match the pattern but are not metrics, and what they are.
NOT_METRICS = {
    "clawback_repo_password": "the compose secret holding the repository password",
    "clawback_situations": "the default Qdrant collection ([learn.qdrant] collection)",
    "clawback_test": "deploy/prometheus/tests/clawback_test.yml, a file",
}

NAME = re.compile(r"(?<![\w:])(clawback_[a-z0-9_]+)(?![\w:]|\.[a-z])")
SELECTOR = re.compile(r"(clawback_[a-z0-9_]+)\s*\{([^}]*)\}")
LABEL = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")


def strings(node):
    """Every string inside a JSON/YAML tree."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for v in node.values():
            yield from strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from strings(v)


def sources():
    """(where, text) pairs to search."""
    for p in sorted(glob.glob(os.path.join(root, "deploy/prometheus/rules/*.yml"))):
        for doc in yaml.safe_load_all(open(p)):
            for g in (doc or {}).get("groups", []):
                for r in g.get("rules", []):
                    yield f"{os.path.relpath(p, root)}: {r.get('record') or r.get('alert')}", str(r.get("expr", ""))
    for p in sorted(glob.glob(os.path.join(root, "deploy/prometheus/tests/*.yml"))):
        for doc in yaml.safe_load_all(open(p)):
            for t in (doc or {}).get("tests", []):
                for s in t.get("input_series", []):
                    yield f"{os.path.relpath(p, root)}: input series", s.get("series", "")
    for p in sorted(glob.glob(os.path.join(root, "deploy/grafana/dashboards/*.json"))):
        for s in strings(json.load(open(p))):
            yield os.path.relpath(p, root), s
    for p in sorted(glob.glob(os.path.join(root, "deploy/grafana/provisioning/**/*.y*ml"), recursive=True)):
        for doc in yaml.safe_load_all(open(p)):
            for s in strings(doc):
                yield os.path.relpath(p, root), s
    docs = [os.path.join(root, "README.md")]
    docs += glob.glob(os.path.join(root, "docs/**/*.md"), recursive=True)
    docs += glob.glob(os.path.join(root, "integrations/*/README.md"))
    docs += glob.glob(os.path.join(root, "deploy/**/*.md"), recursive=True)
    for p in sorted(docs):
        yield os.path.relpath(p, root), open(p).read()


def live_series(path):
    """{name: set of label names seen on it}, for sample names and # TYPE family names."""
    series = {}
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("# TYPE "):
            parts = line.split()
            series.setdefault(parts[2], set())
            continue
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s", line)
        if not m:
            continue
        labels = set(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', m.group(3) or ""))
        series.setdefault(m.group(1), set()).update(labels)
    # A family's labels are its samples' (histogram buckets add `le`).
    for name in list(series):
        for suffix in ("_bucket", "_sum", "_count", "_total"):
            if name.endswith(suffix):
                series.setdefault(name[: -len(suffix)], set()).update(series[name])
    return series


live = live_series(metrics_path)
if not any(n.startswith("clawback_") for n in live):
    print(f"FAIL {metrics_path} holds no clawback_ series", file=sys.stderr)
    sys.exit(1)

failures = 0
checked = set()
for where, text in sources():
    for name in NAME.findall(text):
        if name in NOT_METRICS:
            continue
        checked.add(name)
        if name not in live:
            failures += 1
            print(f"FAIL {where}: {name} is not exported by clawback serve", file=sys.stderr)
    for name, selector in SELECTOR.findall(text):
        if name not in live:
            continue  # reported above
        for label in LABEL.findall(selector):
            if label not in live[name]:
                failures += 1
                print(f"FAIL {where}: {name} has no label {label} (it has: "
                      f"{', '.join(sorted(live[name])) or 'none'})", file=sys.stderr)

print(f"{len(checked)} clawback_* names in the bundle and docs checked against a live /metrics, "
      f"{failures} problems")
sys.exit(1 if failures else 0)
