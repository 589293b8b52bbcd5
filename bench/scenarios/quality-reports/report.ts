import type { BarChart, Table } from "../../lib/scenario.ts";
import type { Driven } from "../full-server/drive.ts";
import type { QualityResult, QualitySpec } from "./protocol.ts";

/** One measured phase: which server (rollup on or off) and what the devices sent. */
export type QualityRun = { label: string; windowMs: number; spec: Omit<QualitySpec, "port"> } & Driven<QualityResult>;

/** The figures of one phase the capacity model and the README use. */
export type QualityPhaseFigures = {
  label: string;
  kind: QualitySpec["kind"];
  windowMs: number;
  commandsPerSecond: number;
  serverCpuUsPerCommand: number;
  /** Sample rows written per quality report (0 for relay phases). */
  sampleWritesPerReport: number;
  serverWaitPct: number;
  otherCpuPct: number;
  errors: number;
};

/** A phase's figures. */
export function phaseFigures(r: QualityRun): QualityPhaseFigures {
  // Per command the server answered in the window: a server behind on a backlog handles more than were sent.
  const handled = Math.max(1, r.result.acked);
  return {
    label: r.label,
    kind: r.spec.kind,
    windowMs: r.windowMs,
    commandsPerSecond: (r.result.acked * 1000) / r.result.measuredMs,
    serverCpuUsPerCommand: (r.window.serverCpuMs * 1000) / handled,
    sampleWritesPerReport: r.spec.kind === "quality" ? r.result.sampleWrites / handled : 0,
    serverWaitPct: r.window.serverWaitPct,
    otherCpuPct: r.window.otherCpuPct,
    errors: r.result.errors,
  };
}

/** What the scenario hands on (results JSON `data.figures`): before/after per report, and the relayed anchor. */
export type QualityFigures = {
  phases: QualityPhaseFigures[];
  before?: QualityPhaseFigures;
  after?: QualityPhaseFigures;
  relay?: QualityPhaseFigures;
  /** Bytes a stored window takes per sample (compact text, 12 samples of two 36-character user ids). */
  windowBytesPerSample: number;
};

const f1 = (x: number) => (Number.isFinite(x) ? Number(x.toFixed(1)) : "—");
const f3 = (x: number) => (Number.isFinite(x) ? Number(x.toFixed(3)) : "—");

/** The markdown table of the phases. */
export function qualityTables(f: QualityFigures): Table[] {
  return [
    {
      title:
        "Quality reports: server CPU and store writes per report, rollup off (before) vs on, and a relayed message",
      columns: [
        "phase",
        "sample window ms",
        "commands handled/s",
        "server CPU µs/cmd",
        "sample writes/report",
        "reports/write",
        "server CPU wait %",
        "other CPU %",
        "errors",
      ],
      rows: f.phases.map((p) => [
        p.label,
        p.windowMs,
        Math.round(p.commandsPerSecond),
        f1(p.serverCpuUsPerCommand),
        p.kind === "quality" ? f3(p.sampleWritesPerReport) : "—",
        p.kind === "quality" && p.sampleWritesPerReport > 0 ? f1(1 / p.sampleWritesPerReport) : "—",
        f1(p.serverWaitPct),
        f1(p.otherCpuPct),
        p.errors,
      ]),
    },
  ];
}

/** Server CPU per command by phase. */
export function qualityCharts(f: QualityFigures): BarChart[] {
  return [
    {
      title: "Server CPU per command",
      unit: "µs",
      bars: f.phases.map((p) => ({ category: p.label, series: "server", value: p.serverCpuUsPerCommand })),
    },
  ];
}
