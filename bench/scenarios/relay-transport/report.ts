import type { BarChart, Cell, Table } from "../../lib/scenario.ts";
import type { IdleFigures, LoadFigures } from "./measure.ts";
import type { ServerKind } from "./protocol.ts";

/** Everything measured against one server. */
export type ServerRun = {
  server: ServerKind;
  idle?: IdleFigures;
  phases: { phase: string; figures: LoadFigures }[];
  /** Set when the server or a phase failed; the phases before it are kept. */
  failure?: string;
};

const kb = (bytes: number) => bytes / 1024;
const mb = (bytes: number) => bytes / 1024 / 1024;
const relayedPerSecond = (f: LoadFigures) =>
  f.load.measuredMs > 0 ? (2 * f.load.roundTrips * 1000) / f.load.measuredMs : 0;

/** The phases measured under load, in the order the runs first mention them. */
function loadPhases(runs: ServerRun[]): string[] {
  return [...new Set(runs.flatMap((r) => r.phases.map((p) => p.phase)))];
}

/** Tables for the markdown report: throughput/latency, idle memory, and ratios against connect-node. */
export function buildTables(runs: ServerRun[]): Table[] {
  const load: Cell[][] = [];
  for (const phase of loadPhases(runs))
    for (const run of runs) {
      const f = run.phases.find((p) => p.phase === phase)?.figures;
      if (!f) continue;
      const l = f.load.latency;
      load.push([
        phase,
        run.server,
        relayedPerSecond(f),
        relayedPerSecond(f) / 2,
        l.p50,
        l.p95,
        l.p99,
        l.max,
        f.serverCpuPct,
        f.clientCpuPct,
        f.otherCpuPct,
        mb(f.serverRssBytes),
        f.load.errors + f.load.unanswered,
      ]);
    }
  const idle: Cell[][] = runs.flatMap((r) =>
    r.idle
      ? [
          [
            r.server,
            r.idle.streams,
            kb(r.idle.rssDeltaBytes / r.idle.streams),
            kb(r.idle.heapDeltaBytes / r.idle.streams),
            r.idle.openMs,
            r.idle.errors,
          ],
        ]
      : [],
  );
  return [
    {
      title: "Relay throughput and round-trip latency (1 round trip = A→server→B→server→A, 2 relayed messages)",
      columns: [
        "phase",
        "server",
        "relayed msg/s",
        "round trips/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "server CPU %",
        "client CPU %",
        "other CPU %",
        "server RSS MB",
        "errors",
      ],
      rows: load,
    },
    {
      title: "Memory per idle connected stream (one connection per device, after forced GC)",
      columns: ["server", "streams", "RSS KB/stream", "JS heap KB/stream", "open all ms", "errors"],
      rows: idle,
    },
    {
      title: "Ratios against connect-node (>1: the other server is better)",
      columns: ["metric", "grpc-js / connect-node", "peerjs / connect-node"],
      rows: ratios(runs),
    },
  ];
}

function ratios(runs: ServerRun[]): Cell[][] {
  const by = (s: ServerKind) => runs.find((r) => r.server === s);
  const base = by("connect-node");
  if (!base) return [];
  const rows: Cell[][] = [];
  const ratio = (pick: (r: ServerRun) => number | undefined, invert: boolean): Cell[] =>
    (["grpc-js", "peerjs"] as const).map((s) => {
      const run = by(s);
      const a = run && pick(run);
      const b = pick(base);
      if (a === undefined || b === undefined || !(a > 0) || !(b > 0)) return "–";
      return invert ? `${(b / a).toFixed(2)}x` : `${(a / b).toFixed(2)}x`;
    });
  for (const phase of loadPhases(runs)) {
    const f = (r: ServerRun) => r.phases.find((p) => p.phase === phase)?.figures;
    rows.push([
      `${phase}: relayed msg/s`,
      ...ratio((r) => {
        const x = f(r);
        return x && relayedPerSecond(x);
      }, false),
    ]);
    rows.push([`${phase}: p99 latency (lower is better)`, ...ratio((r) => f(r)?.load.latency.p99, true)]);
  }
  rows.push([
    "idle RSS per stream (lower is better)",
    ...ratio((r) => r.idle && r.idle.rssDeltaBytes / r.idle.streams, true),
  ]);
  return rows;
}

/** Bar charts: relayed messages/s and p99 per phase, and RSS per idle stream, one bar per server. */
export function buildCharts(runs: ServerRun[]): BarChart[] {
  const perPhase = (value: (f: LoadFigures) => number) =>
    runs.flatMap((r) => r.phases.map((p) => ({ category: p.phase, series: r.server, value: value(p.figures) })));
  return [
    { title: "Relayed messages per second (higher is better)", unit: "msg/s", bars: perPhase(relayedPerSecond) },
    { title: "Round-trip p99 (lower is better)", unit: "ms", bars: perPhase((f) => f.load.latency.p99) },
    {
      title: "RSS per idle stream (lower is better)",
      unit: "KB",
      bars: runs.flatMap((r) =>
        r.idle ? [{ category: "idle", series: r.server, value: kb(r.idle.rssDeltaBytes / r.idle.streams) }] : [],
      ),
    },
  ];
}
