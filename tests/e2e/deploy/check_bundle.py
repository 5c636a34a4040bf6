#!/usr/bin/env python3
"""Static checks of the deploy bundle (deploy/): every YAML parses, every file the compose
stack and kustomize reference exists, nothing is published beyond loopback, every
datasource uid a dashboard uses is provisioned. Also writes the PromQL expressions of every
dashboard and rule to a file for the live check, one JSON string a line.

Usage: check_bundle.py REPO_ROOT PROMQL_OUT
"""
import json
import os
import re
import sys

import yaml

root, promql_out = sys.argv[1], sys.argv[2]
deploy = os.path.join(root, "deploy")
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL " + msg, file=sys.stderr)


def load_all_yaml(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


# 1. Every YAML file parses.
yaml_files = []
for dirpath, _, files in os.walk(deploy):
    for name in files:
        if name.endswith((".yml", ".yaml")):
            p = os.path.join(dirpath, name)
            yaml_files.append(p)
            try:
                load_all_yaml(p)
            except yaml.YAMLError as e:
                fail(f"{os.path.relpath(p, root)} does not parse: {e}")

# 2. Compose: mounts exist, ports on loopback, healthchecks and restart policies present.
compose_path = os.path.join(deploy, "compose", "docker-compose.yml")
compose = load_all_yaml(compose_path)[0]
compose_dir = os.path.dirname(compose_path)
services = compose.get("services", {})
for name, svc in services.items():
    for port in svc.get("ports", []):
        spec = str(port)
        if not spec.startswith("127.0.0.1:"):
            fail(f"compose service {name} publishes {spec} beyond loopback")
    for vol in svc.get("volumes", []):
        src = str(vol).split(":")[0]
        if src.startswith("."):
            if not os.path.exists(os.path.normpath(os.path.join(compose_dir, src))):
                fail(f"compose service {name} mounts {src}, which does not exist")
    if "healthcheck" not in svc:
        fail(f"compose service {name} has no healthcheck")
    if svc.get("restart", compose.get("x-defaults", {}).get("restart")) is None and "<<" not in svc:
        fail(f"compose service {name} has no restart policy")
    if "mem_limit" not in svc:
        fail(f"compose service {name} has no memory limit")
    build = svc.get("build")
    if build:
        ctx = os.path.normpath(os.path.join(compose_dir, build["context"]))
        if not os.path.exists(os.path.join(ctx, build["dockerfile"])):
            fail(f"compose service {name} builds from a missing Dockerfile")
for name, sec in compose.get("secrets", {}).items():
    if "file" in sec and not sec["file"].startswith("./secrets/"):
        fail(f"secret {name} must live under ./secrets/ (gitignored)")

# 3. Kustomize: every listed resource exists.
for dirpath, _, files in os.walk(os.path.join(deploy, "k8s")):
    if "kustomization.yaml" in files:
        k = load_all_yaml(os.path.join(dirpath, "kustomization.yaml"))[0]
        for res in k.get("resources", []) + [p.get("path", "") for p in k.get("patches", []) if isinstance(p, dict)]:
            if res and not os.path.exists(os.path.join(dirpath, res)):
                fail(f"{os.path.relpath(dirpath, root)}/kustomization.yaml lists missing {res}")

# 4. Datasource uids.
ds = load_all_yaml(os.path.join(deploy, "grafana", "provisioning", "datasources", "datasources.yaml"))[0]
uids = {d["uid"] for d in ds["datasources"]}
builtin = {"-- Grafana --", "grafana"}
dash_dir = os.path.join(deploy, "grafana", "dashboards")
promql = []
for name in sorted(os.listdir(dash_dir)):
    if not name.endswith(".json"):
        continue
    dash = json.load(open(os.path.join(dash_dir, name)))

    def use(d, where):
        if isinstance(d, dict) and d.get("uid") and d["uid"] not in uids | builtin:
            fail(f"{name} {where} uses datasource uid {d['uid']}, which is not provisioned")

    for a in dash.get("annotations", {}).get("list", []):
        use(a.get("datasource"), "annotation " + a.get("name", ""))
    for v in dash.get("templating", {}).get("list", []):
        use(v.get("datasource"), "variable " + v.get("name", ""))
    for p in dash.get("panels", []):
        use(p.get("datasource"), f'panel "{p.get("title")}"')
        for t in p.get("targets", []):
            use(t.get("datasource"), f'panel "{p.get("title")}"')
            if (t.get("datasource") or p.get("datasource") or {}).get("type") == "prometheus":
                promql.append({"where": f'{name} "{p.get("title")}"', "expr": t["expr"]})
    # Few panels per row keeps the load under 3 s.
    rows = {}
    for p in dash.get("panels", []):
        if p["type"] != "row":
            rows.setdefault(p["gridPos"]["y"], []).append(p)
    for y, ps in rows.items():
        if len(ps) > 4:
            fail(f"{name}: {len(ps)} panels in one row (y={y}); keep it to 4")

for rule_file in sorted(os.listdir(os.path.join(deploy, "prometheus", "rules"))):
    if rule_file.endswith("_test.yml"):
        continue
    rules = load_all_yaml(os.path.join(deploy, "prometheus", "rules", rule_file))[0]
    for g in rules["groups"]:
        for r in g["rules"]:
            promql.append({"where": f"{rule_file} {r.get('record') or r.get('alert')}", "expr": r["expr"]})

with open(promql_out, "w") as f:
    for q in promql:
        f.write(json.dumps(q) + "\n")

print(f"{len(yaml_files)} YAML files parsed; {len(services)} compose services; "
      f"{len(promql)} PromQL expressions collected; {len(failures)} problems")
sys.exit(1 if failures else 0)
