/**
 * Access to the Prometheus rules and the Grafana dashboard inside rendered manifests, in the
 * shapes promtool and the PromQL checks need.
 */
import type { K8sObject } from "./render.ts";

/** A Prometheus rule (recording or alerting), as in a rules file. */
export interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A rule group, as in a rules file. */
export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}

/** All rule groups of all PrometheusRule objects. */
export function ruleGroups(objects: K8sObject[]): RuleGroup[] {
  return objects.filter((o) => o.kind === "PrometheusRule").flatMap((o) => (o.spec as { groups: RuleGroup[] }).groups);
}

/** Names of the series our own recording rules produce. */
export function recordedSeries(groups: RuleGroup[]): Set<string> {
  return new Set(groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : []))));
}

/** A Grafana panel, as far as the checks look at it. */
export interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: { refId: string; expr?: string; datasource?: { uid?: string } }[];
  panels?: Panel[];
}

/** The Grafana dashboards carried by ConfigMaps labelled for the Grafana sidecar. */
export function dashboards(
  objects: K8sObject[],
): { file: string; dashboard: { panels: Panel[] } & Record<string, unknown> }[] {
  return objects
    .filter((o) => o.kind === "ConfigMap" && o.metadata.labels?.grafana_dashboard === "1")
    .flatMap((o) => Object.entries(o.data as Record<string, string>))
    .map(([file, json]) => ({ file, dashboard: JSON.parse(json) }));
}

/** Every panel, rows' nested panels included. */
export function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

/**
 * Grafana's built-in variables replaced by representative values, so an expression becomes
 * plain PromQL that Prometheus' parsers accept.
 */
export function expandGrafanaMacros(expr: string): string {
  return expr.replaceAll("$__rate_interval", "5m").replaceAll("$__interval", "1m").replaceAll("$__range", "6h");
}
