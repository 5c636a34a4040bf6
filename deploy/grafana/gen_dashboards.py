#!/usr/bin/env python3
"""Writes deploy/grafana/dashboards/*.json from the compact specs below.

Run after changing a panel: python3 deploy/grafana/gen_dashboards.py
Each dashboard keeps few panels per row and reads recording rules for heavy queries, so it
loads in well under 3 s. Datasource uids are the fixed ones provisioned in
provisioning/datasources/datasources.yaml.
"""
import json
import os

PROM = {"type": "prometheus", "uid": "clawback-prometheus"}
LOKI = {"type": "loki", "uid": "clawback-loki"}
TEMPO = {"type": "tempo", "uid": "clawback-tempo"}
LEDGER = {"type": "grafana-postgresql-datasource", "uid": "clawback-ledger"}

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dashboards")


def prom(expr, legend="", instant=False):
    t = {"datasource": PROM, "expr": expr, "legendFormat": legend, "refId": "A"}
    if instant:
        t["instant"] = True
        t["range"] = False
    return t


def panel(title, kind, targets, w=8, h=8, unit=None, ds=PROM, extra=None):
    p = {"title": title, "type": kind, "datasource": ds, "targets": targets,
         "gridPos": {"w": w, "h": h}, "fieldConfig": {"defaults": {}, "overrides": []},
         "options": {}}
    for i, t in enumerate(targets):
        t["refId"] = chr(ord("A") + i)
    if unit:
        p["fieldConfig"]["defaults"]["unit"] = unit
    if extra:
        p.update(extra)
    return p


def row(title):
    return {"title": title, "type": "row", "collapsed": False, "gridPos": {"w": 24, "h": 1},
            "panels": []}


def layout(panels):
    x = y = 0
    row_h = 0
    pid = 1
    for p in panels:
        g = p["gridPos"]
        if p["type"] == "row" or x + g["w"] > 24:
            y += row_h
            x = 0
            row_h = 0
        g["x"], g["y"] = x, y
        p["id"] = pid
        pid += 1
        x += g["w"]
        row_h = max(row_h, g["h"])
        if p["type"] == "row":
            y += 1
            x = 0
            row_h = 0
    return panels


def dashboard(uid, title, panels, variables=(), annotations=(), tags=("clawback",)):
    return {
        "uid": uid, "title": title, "tags": list(tags), "timezone": "utc",
        "schemaVersion": 39, "version": 1, "editable": False, "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": list(variables)},
        "annotations": {"list": [
            {"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
             "enable": True, "hide": True, "name": "Annotations & Alerts", "type": "dashboard"},
            *annotations]},
        "panels": layout(panels),
    }


DEPLOY_ANNOTATION = {
    "name": "Deployments", "enable": True, "iconColor": "blue", "datasource": LEDGER,
    "target": {"rawSql": "SELECT started_at_ms AS time, finished_at_ms AS timeend, "
               "environment || ' ' || status || ' ' || commit_sha AS text FROM deployments "
               "WHERE started_at_ms BETWEEN $__unixEpochFrom()::bigint*1000 AND $__unixEpochTo()::bigint*1000",
               "format": "table", "refId": "A"},
}
ROLLBACK_ANNOTATION = {
    "name": "Rollbacks", "enable": True, "iconColor": "red", "datasource": LEDGER,
    "target": {"rawSql": "SELECT started_at_ms AS time, finished_at_ms AS timeend, "
               "mode || ' rollback of ' || target_kind || ' ' || target || ': ' || status AS text "
               "FROM rollbacks WHERE started_at_ms BETWEEN $__unixEpochFrom()::bigint*1000 AND "
               "$__unixEpochTo()::bigint*1000", "format": "table", "refId": "A"},
}

CONVERSATION_VAR = {
    "name": "conversation_id", "label": "Conversation", "type": "query", "datasource": LEDGER,
    "query": "SELECT id AS __value, coalesce(nullif(title, ''), id::text) || ' (' || status || ')' AS __text "
             "FROM conversations ORDER BY started_at_ms DESC LIMIT 200",
    "refresh": 2, "current": {}, "options": [], "includeAll": False,
}
ENV_VAR = {
    "name": "environment", "label": "Environment", "type": "query", "datasource": LEDGER,
    "query": "SELECT DISTINCT environment FROM deployments ORDER BY 1",
    "refresh": 2, "current": {}, "options": [], "includeAll": True, "allValue": ".*",
}


def overview():
    return dashboard("clawback-overview", "clawback / Overview", [
        row("clawback"),
        panel("Up", "stat", [prom('up{job="clawback"}', "{{instance}}", instant=True)], w=4, h=5),
        panel("Requests / s", "timeseries", [prom("sum by (code) (clawback:http_requests:rate5m)", "{{code}}")], unit="reqps"),
        panel("Error ratio (5xx)", "timeseries", [prom("clawback:http_errors:ratio5m", "5xx")], w=6, unit="percentunit"),
        panel("Build", "table", [prom("clawback_build_info", instant=True)], w=6, h=5),
        row("ingest and ledger"),
        panel("Ingest latency", "timeseries", [
            prom("clawback:ingest_latency_seconds:p99_5m", "p99"),
            prom("clawback:ingest_latency_seconds:p50_5m", "p50")], w=12, unit="s",
            extra={"options": {"tooltip": {"mode": "multi"}}}),
        panel("Events stored / s", "timeseries", [prom("clawback:events_stored:rate5m", "events")], w=6),
        panel("Ledger size", "stat", [prom("max(clawback_ledger_size_bytes)", instant=True)], w=6, unit="bytes"),
        row("stack"),
        panel("Targets down", "stat", [prom("count(up == 0) or vector(0)", instant=True)], w=6, h=5),
        panel("Host CPU", "timeseries", [prom('1 - avg(rate(node_cpu_seconds_total{mode="idle"}[$__rate_interval]))', "busy")], w=9, unit="percentunit"),
        panel("Host memory available", "timeseries", [prom("node_memory_MemAvailable_bytes", "{{instance}}")], w=9, unit="bytes"),
    ], annotations=[DEPLOY_ANNOTATION, ROLLBACK_ANNOTATION])


def conversation():
    timeline_sql = (
        "SELECT time_ms AS \"time\", kind, actor, attributes FROM events "
        "WHERE conversation_id = '${conversation_id}' ORDER BY seq")
    tools_sql = (
        "SELECT started_at_ms AS \"time\", name, tool_call_id, status, exit_code, duration_ms "
        "FROM tool_calls WHERE conversation_id = '${conversation_id}' ORDER BY started_at_ms")
    commits_sql = (
        "SELECT time_ms AS \"time\", sha, branch, message FROM commits "
        "WHERE conversation_id = '${conversation_id}' ORDER BY time_ms")
    return dashboard("clawback-conversation", "clawback / Conversation", [
        row("what the conversation did (ledger)"),
        panel("Timeline", "table", [{"datasource": LEDGER, "rawSql": timeline_sql, "format": "table", "rawQuery": True}], w=24, h=10, ds=LEDGER),
        panel("Tool calls", "table", [{"datasource": LEDGER, "rawSql": tools_sql, "format": "table", "rawQuery": True}], w=12, ds=LEDGER),
        panel("Commits", "table", [{"datasource": LEDGER, "rawSql": commits_sql, "format": "table", "rawQuery": True}], w=12, ds=LEDGER),
        row("traces and logs"),
        panel("Trace", "traces", [{"datasource": TEMPO, "queryType": "traceql",
                                   "query": '{ span.clawback.conversation.id = "${conversation_id}" }'}], w=12, h=10, ds=TEMPO),
        panel("Logs", "logs", [{"datasource": LOKI, "expr": '{service="clawback"} | conversation_id = `${conversation_id}`'}], w=12, h=10, ds=LOKI),
        row("metrics around it"),
        panel("Requests / s", "timeseries", [prom("sum by (route) (clawback:http_requests:rate5m)", "{{route}}")], w=12, unit="reqps"),
        panel("Ingest p99 (exemplars link to traces)", "timeseries", [
            dict(prom("clawback:ingest_latency_seconds:p99_5m", "p99"), exemplar=True)], w=12, unit="s"),
    ], variables=[CONVERSATION_VAR], annotations=[DEPLOY_ANNOTATION, ROLLBACK_ANNOTATION])


def deployments():
    deploy_sql = (
        "SELECT started_at_ms AS \"time\", environment, status, commit_sha, conversation_id, "
        "(finished_at_ms - started_at_ms) / 1000.0 AS seconds FROM deployments "
        "WHERE environment ~ '${environment:regex}' ORDER BY started_at_ms DESC LIMIT 100")
    rollback_sql = (
        "SELECT started_at_ms AS \"time\", target_kind, target, mode, status, pre_snapshot_id "
        "FROM rollbacks ORDER BY started_at_ms DESC LIMIT 100")
    return dashboard("clawback-deployments", "clawback / Deployments & rollbacks", [
        row("deployments"),
        panel("Deployments", "table", [{"datasource": LEDGER, "rawSql": deploy_sql, "format": "table", "rawQuery": True}], w=24, h=9, ds=LEDGER),
        row("rollbacks"),
        panel("Rollbacks", "table", [{"datasource": LEDGER, "rawSql": rollback_sql, "format": "table", "rawQuery": True}], w=24, h=8, ds=LEDGER),
        row("deploy logs"),
        panel("Deployment events", "logs", [{"datasource": LOKI, "expr": '{service="clawback", kind=~"deployment.*"}'}], w=24, ds=LOKI),
    ], variables=[ENV_VAR], annotations=[DEPLOY_ANNOTATION, ROLLBACK_ANNOTATION])


# Backups & DR and cost panels come with the scheduler, verification and cost estimate
# (their metrics do not exist before them; tests/e2e/deploy checks every clawback_* name).
def resources():
    return dashboard("clawback-resources", "clawback / Resources", [
        row("resources"),
        panel("Container CPU", "timeseries", [prom('sum by (name) (rate(container_cpu_usage_seconds_total{name!=""}[$__rate_interval]))', "{{name}}")], w=12),
        panel("Container memory", "timeseries", [prom('sum by (name) (container_memory_working_set_bytes{name!=""})', "{{name}}")], w=12, unit="bytes"),
        panel("Disk free", "timeseries", [prom('node_filesystem_avail_bytes{fstype!~"tmpfs|overlay"}', "{{mountpoint}}")], w=12, unit="bytes"),
        panel("clawback resident memory", "timeseries", [prom('process_resident_memory_bytes{job="clawback"}', "rss")], w=12, unit="bytes"),
    ])


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, fn in [("overview", overview), ("conversation", conversation),
                     ("deployments", deployments), ("resources", resources)]:
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump(fn(), f, indent=2, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main()
