/**
 * Alert rules and dashboard: every PromQL expression parses with Prometheus' grammar and
 * uses only series the server exports (or our own recording rules), with valid labels and
 * values; `promtool check rules` accepts the rules and the dashboard queries; the rule unit
 * tests (base/monitoring/alerts.test.yaml) pass under `promtool test rules`, cover every
 * alert, and fail when a rule is broken.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { METRICS } from "./tools/metrics-catalog.ts";
import { checkExpression } from "./tools/promql.ts";
import { checkRules, promtool, promtoolVersion, testRules } from "./tools/promtool.ts";
import { type K8sObject, renderKustomization } from "./tools/render.ts";
import {
  allPanels,
  dashboards,
  expandGrafanaMacros,
  type RuleGroup,
  recordedSeries,
  ruleGroups,
} from "./tools/rules.ts";

const here = import.meta.dirname;
const unitTests = join(here, "base/monitoring/alerts.test.yaml");
let objects: K8sObject[] = [];
let groups: RuleGroup[] = [];
let work = "";

/** Writes rule groups as a plain rules file (what promtool and Prometheus load). */
function writeRules(dir: string, g: RuleGroup[]): string {
  const file = join(dir, "calldrop-slo.rules.yaml");
  writeFileSync(file, stringify({ groups: g }));
  return file;
}

before(() => {
  process.stdout.write(`# ${promtool((l) => process.stdout.write(`# ${l}\n`))}: ${promtoolVersion()}\n`);
  objects = renderKustomization(join(here, "overlays/production"));
  groups = ruleGroups(objects);
  work = mkdtempSync(join(tmpdir(), "k8s-rules-"));
});
after(() => rmSync(work, { recursive: true, force: true }));

describe("alert and recording rules", () => {
  it("every expression parses and uses only exported or recorded series with valid labels", () => {
    const recorded = recordedSeries(groups);
    const problems = groups.flatMap((g) =>
      g.rules.flatMap((r) => checkExpression(r.expr, recorded).map((p) => `${r.alert ?? r.record}: ${p}`)),
    );
    assert.deepEqual(problems, []);
  });

  it("are accepted by promtool check rules", () => {
    const r = checkRules(writeRules(work, groups));
    assert.ok(r.ok, r.output);
    assert.match(r.output, /SUCCESS: \d+ rules found/);
  });

  it("pass their promtool unit tests", () => {
    writeRules(work, groups);
    copyFileSync(unitTests, join(work, "alerts.test.yaml"));
    const r = testRules(join(work, "alerts.test.yaml"));
    assert.ok(r.ok, r.output);
  });

  it("have a firing unit test for every alert", () => {
    const tests = readFileSync(unitTests, "utf8");
    const fired = new Set<string>();
    for (const m of tests.matchAll(/labels: ALERTS\{alertname="(\w+)",alertstate="firing"/g)) fired.add(m[1] ?? "");
    const doc = parse(tests) as { tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[] };
    for (const t of doc.tests.flatMap((x) => x.alert_rule_test ?? [])) if (t.exp_alerts.length) fired.add(t.alertname);
    const alerts = new Set(groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : []))));
    assert.deepEqual(
      [...alerts].filter((a) => !fired.has(a)),
      [],
    );
  });

  it("cover the SLOs: availability burn rates, hop latency, setup time, setup success, missed calls", () => {
    const alerts = groups.flatMap((g) => g.rules.filter((r) => r.alert));
    const expr = (slo: string) =>
      alerts
        .filter((r) => r.labels?.slo === slo)
        .map((r) => r.expr)
        .join("\n");
    for (const burn of ["14.4 * 0.001", "6 * 0.001", "3 * 0.001", "> 0.001"])
      assert.ok(expr("availability").includes(burn), burn);
    for (const w of ["rate5m", "rate30m", "rate1h", "rate2h", "rate6h", "rate1d", "rate3d"]) {
      assert.ok(expr("availability").includes(`ratio_${w}`), `burn-rate window ${w}`);
    }
    assert.match(expr("signaling-latency"), /p99_rate5m > 0\.01\b/);
    assert.match(expr("call-setup-time"), /phase="accept_to_connected"\} > 1\n/);
    assert.match(expr("call-setup-time"), /phase="accept_to_connected"\} > 3$/);
    assert.match(expr("call-setup-success"), /success_ratio_rate\w+ < 0\.99/);
    assert.match(expr("missed-calls"), /stddev_1w/);
  });
});

describe("rule checks catch broken rules", () => {
  it("a syntax error is rejected by both the PromQL grammar and promtool", () => {
    const broken = structuredClone(groups);
    const rule = broken[0]?.rules[0];
    assert.ok(rule);
    rule.expr = "sum(rate(calldrop_rpc_handled_total[5m])";
    assert.ok(checkExpression(rule.expr, new Set()).some((p) => p.startsWith("syntax error")));
    const r = checkRules(writeRules(work, broken));
    assert.equal(r.ok, false, r.output);
  });

  it("a type error (rate of an instant vector) is rejected by promtool", () => {
    const broken = structuredClone(groups);
    const rule = broken[0]?.rules[0];
    assert.ok(rule);
    rule.expr = "rate(calldrop_rpc_handled_total)";
    const r = checkRules(writeRules(work, broken));
    assert.equal(r.ok, false);
    assert.match(r.output, /expected type range vector/);
  });

  it("unknown series, labels and label values are reported", () => {
    const problems = checkExpression(
      'sum(rate(calldrop_call_ended_total[5m])) + sum(calldrop_calls_active{zone="a"}) + sum(rate(calldrop_calls_ended_total{outcome="complete"}[5m]))',
      new Set(),
    );
    assert.deepEqual(problems, [
      "unknown series calldrop_call_ended_total",
      "calldrop_calls_active has no label zone",
      'calldrop_calls_ended_total{outcome} has no value "complete"',
    ]);
  });

  it("a wrong threshold makes the unit tests fail", () => {
    // Page thresholds 10x too high: a 2 % error rate would no longer page.
    const broken = structuredClone(groups);
    for (const g of broken) {
      for (const r of g.rules)
        r.expr = r.expr.replaceAll("(14.4 * 0.001)", "(14.4 * 0.01)").replaceAll("(6 * 0.001)", "(6 * 0.01)");
    }
    writeRules(work, broken);
    // Only the fast-burn case, to keep this run short.
    const doc = parse(readFileSync(unitTests, "utf8")) as { tests: { name: string }[] };
    doc.tests = doc.tests.filter((t) => t.name.startsWith("fast burn"));
    writeFileSync(join(work, "fast-burn.test.yaml"), stringify(doc));
    const r = testRules(join(work, "fast-burn.test.yaml"));
    assert.equal(r.ok, false, "unit tests must notice that the page no longer fires");
    assert.match(r.output, /CalldropErrorBudgetBurn/);
  });
});

describe("Grafana dashboard", () => {
  const dash = () => {
    const all = dashboards(objects);
    assert.equal(all.length, 1, "one dashboard ConfigMap");
    const d = all[0];
    assert.ok(d);
    return d.dashboard;
  };
  const exprs = () =>
    allPanels(dash().panels).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr ?? "" })));

  it("every query parses and uses only exported or recorded series", () => {
    const recorded = recordedSeries(groups);
    const problems = exprs().flatMap(({ panel, expr }) =>
      checkExpression(expandGrafanaMacros(expr), recorded).map((p) => `${panel}: ${p}`),
    );
    assert.deepEqual(problems, []);
    assert.ok(exprs().length >= 25, `${exprs().length} queries`);
  });

  it("every query is accepted by promtool (as a recording rule)", () => {
    const rules = exprs().map((e, i) => ({ record: `dashboard:query_${i}`, expr: expandGrafanaMacros(e.expr) }));
    const r = checkRules(writeRules(work, [{ name: "dashboard", rules }]));
    assert.ok(r.ok, r.output);
  });

  it("is well-formed: unique panel ids, datasource variable, panels inside the 24-column grid", () => {
    const d = dash();
    const panels = allPanels(d.panels);
    assert.equal(new Set(panels.map((p) => p.id)).size, panels.length, "panel ids are unique");
    const vars = (d.templating as { list: { name: string; type: string }[] }).list;
    assert.ok(vars.some((v) => v.name === "datasource" && v.type === "datasource"));
    for (const p of panels) {
      assert.ok(p.gridPos.x >= 0 && p.gridPos.x + p.gridPos.w <= 24, `${p.title} fits the grid`);
      if (p.type === "row") continue;
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template.
      assert.equal(p.datasource?.uid, "${datasource}", `${p.title} uses the datasource variable`);
      assert.ok(p.targets?.length, `${p.title} has queries`);
    }
    const cells = new Set<string>();
    for (const p of panels)
      for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++)
        for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
          assert.ok(!cells.has(`${x},${y}`), `${p.title} overlaps another panel at ${x},${y}`);
          cells.add(`${x},${y}`);
        }
  });

  it("shows every SLO signal and every exported metric family", () => {
    const all = exprs()
      .map((e) => e.expr)
      .join("\n");
    for (const s of [
      "calldrop_signal_hop_seconds_bucket",
      "calldrop:call_setup_seconds:p95_rate5m",
      "calldrop:call_setup:success_ratio_rate30m",
      "calldrop:calls_missed:ratio_rate30m",
      "calldrop:rpc_errors:ratio_rate1h",
    ]) {
      assert.ok(all.includes(s), s);
    }
    const missing = Object.keys(METRICS).filter((name) => !all.includes(name));
    assert.deepEqual(missing, [], "exported families without a panel");
  });
});
