/**
 * PromQL syntax check and series extraction with Prometheus' own grammar
 * (@prometheus-io/lezer-promql, the parser of the Prometheus UI), plus a check of every
 * selector against the metric catalog: known series, known labels, known label values.
 */
import { parser } from "@prometheus-io/lezer-promql";
import { familyOf, TARGET_LABELS } from "./metrics-catalog.ts";

/** A selector found in an expression. */
export interface Selector {
  metric: string | undefined;
  matchers: { label: string; op: string; value: string }[];
}

/** Parses `expr`; returns syntax errors (empty when it parses) and its series selectors. */
export function parsePromQL(expr: string): { errors: string[]; selectors: Selector[] } {
  const tree = parser.parse(expr);
  const errors: string[] = [];
  const selectors: Selector[] = [];
  const text = (from: number, to: number) => expr.slice(from, to);
  tree.iterate({
    enter: (n) => {
      if (n.type.isError) errors.push(`syntax error at ${n.from}: …${text(Math.max(0, n.from - 20), n.from)}⟨here⟩`);
      if (n.name !== "VectorSelector") return;
      const node = n.node;
      const id = node.getChild("Identifier");
      const matchers: Selector["matchers"] = [];
      for (const m of node.getChild("LabelMatchers")?.getChildren("UnquotedLabelMatcher") ?? []) {
        const label = m.getChild("LabelName");
        const op = m.getChild("MatchOp");
        const value = m.getChild("StringLiteral");
        if (!label || !op || !value) continue;
        matchers.push({
          label: text(label.from, label.to),
          op: text(op.from, op.to),
          value: JSON.parse(text(value.from, value.to).replace(/^'|'$/g, '"').replace(/^`|`$/g, '"')),
        });
      }
      const byName = matchers.find((m) => m.label === "__name__" && m.op === "=");
      selectors.push({ metric: id ? text(id.from, id.to) : byName?.value, matchers });
    },
  });
  return { errors, selectors };
}

/** Values a matcher can match when it is a literal or a plain alternation; else undefined. */
function literalValues(op: string, value: string): string[] | undefined {
  if (op === "=" || op === "!=") return [value];
  if ((op === "=~" || op === "!~") && /^[\w|]+$/.test(value)) return value.split("|");
  return undefined;
}

/**
 * Problems of one expression: syntax errors, selectors without a metric name, series that
 * are neither exported (catalog) nor recorded by our own rules (`recorded`), unknown labels
 * and unknown label values.
 */
export function checkExpression(expr: string, recorded: ReadonlySet<string>): string[] {
  const { errors, selectors } = parsePromQL(expr);
  const problems = [...errors];
  for (const s of selectors) {
    if (!s.metric) {
      problems.push("selector without a metric name");
      continue;
    }
    if (recorded.has(s.metric)) continue;
    const f = familyOf(s.metric);
    if (!f) {
      problems.push(`unknown series ${s.metric}`);
      continue;
    }
    for (const m of s.matchers) {
      if (m.label === "__name__" || (TARGET_LABELS as readonly string[]).includes(m.label)) continue;
      if (m.label === "le" && f.bucket) continue;
      if (!(m.label in f.family.labels)) {
        problems.push(`${s.metric} has no label ${m.label}`);
        continue;
      }
      const allowed = f.family.labels[m.label];
      const values = literalValues(m.op, m.value);
      for (const v of allowed && values ? values : []) {
        if (!allowed?.includes(v)) problems.push(`${s.metric}{${m.label}} has no value ${JSON.stringify(v)}`);
      }
    }
  }
  return problems;
}
