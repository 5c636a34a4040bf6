// Parses every LogQL and TraceQL expression in the dashboards (and the Tempo datasource's
// trace-to-logs query) with Grafana's own Lezer grammars; exits 1 naming each that fails.
// Usage: node parse_queries.mjs DASHBOARD_DIR DATASOURCES_YAML_AS_JSON
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parser as logqlParser } from "@grafana/lezer-logql";
import { parser as traceqlParser } from "@grafana/lezer-traceql";

// Grafana substitutes variables before a query reaches the grammar; do the same.
function substitute(expr) {
  return expr
    .replaceAll("${conversation_id}", "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
    .replaceAll("$${__span.tags[\"clawback.conversation.id\"]}", "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
    .replaceAll("${__span.tags[\"clawback.conversation.id\"]}", "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
    .replaceAll("$__auto", "1m")
    .replaceAll("$__interval", "1m")
    .replaceAll("$__rate_interval", "1m");
}

function errors(parser, text) {
  const tree = parser.parse(text);
  const bad = [];
  tree.iterate({
    enter(node) {
      if (node.type.isError) bad.push(node.from);
    },
  });
  return bad;
}

const [dashDir, dsJson] = process.argv.slice(2);
let failures = 0;
let checked = 0;
function check(where, lang, expr) {
  const text = substitute(expr);
  const bad = errors(lang === "logql" ? logqlParser : traceqlParser, text);
  checked++;
  if (bad.length) {
    failures++;
    console.error(`FAIL ${where}: ${lang} does not parse at offset ${bad[0]}: ${text}`);
  }
}

for (const file of readdirSync(dashDir).filter((f) => f.endsWith(".json"))) {
  const dash = JSON.parse(readFileSync(join(dashDir, file), "utf8"));
  for (const panel of dash.panels ?? []) {
    for (const t of panel.targets ?? []) {
      const type = (t.datasource ?? panel.datasource ?? {}).type;
      if (type === "loki") check(`${file} "${panel.title}"`, "logql", t.expr);
      if (type === "tempo") check(`${file} "${panel.title}"`, "traceql", t.query);
    }
  }
}
const ds = JSON.parse(readFileSync(dsJson, "utf8"));
for (const d of ds.datasources) {
  const q = d.jsonData?.tracesToLogsV2?.query;
  if (q) check(`datasource ${d.uid} tracesToLogsV2`, "logql", q);
}
// The grammar must also reject garbage, or this check proves nothing.
if (!errors(logqlParser, '{service="clawback"} |= ').length ||
    !errors(traceqlParser, "{ span.x = }").length) {
  console.error("FAIL: the grammars accepted invalid queries");
  failures++;
}
console.log(`${checked} LogQL/TraceQL expressions parsed, ${failures} failed`);
process.exit(failures ? 1 : 0);
