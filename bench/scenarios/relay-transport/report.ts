import type { BarChart, Cell, Table } from "../../lib/scenario.ts";
import type { IdleFigures, LoadFigures } from "./measure.ts";
import type { ServerKind } from "./protocol.ts";

/** Everything measured against one server. */
export type ServerRun = {
  server: ServerKind;
  idle?: IdleFigures;
  phases: { phase: string; round: number; figures: LoadFigures }[];
  /** Set when the server or a phase failed; what was measured before is kept. */
  failure?: string;
};

/** Above this 'other CPU %' (one-core %, of 200) a measurement is flagged as contended. */
export const contendedOtherCpuPct = 50;

const kb = (bytes: number) => bytes / 1024;
const mb = (bytes: number) => bytes / 1024 / 1024;
const relayedPerSecond = (f: LoadFigures) =>
  f.load.measuredMs > 0 ? (2 * f.load.roundTrips * 1000) / f.load.measuredMs : 0;
/** Server CPU time per relayed message in µs: less sensitive to other load on the machine than rates. */
const serverMicrosPerMessage = (f: LoadFigures) => {
  const rate = relayedPerSecond(f);
  return rate > 0 ? (f.serverCpuPct / 100) * (1e6 / rate) : Number.NaN;
};

/** The phases measured under load, in the order the runs first mention them. */
function loadPhases(runs: ServerRun[]): string[] {
  return [...new Set(runs.flatMap((r) => r.phases.map((p) => p.phase)))];
}

/** All rounds of one server and phase, and the least contended of them (the one reported). */
function rounds(run: ServerRun, phase: string): { best?: LoadFigures; all: LoadFigures[] } {
  const all = run.phases.filter((p) => p.phase === phase).map((p) => p.figures);
  const best = all.reduce<LoadFigures | undefined>((b, f) => (!b || f.otherCpuPct < b.otherCpuPct ? f : b), undefined);
  return { best, all };
}

function spread(all: LoadFigures[]): string {
  const rates = all.map(relayedPerSecond).map(Math.round);
  const [min, max] = [Math.min(...rates), Math.max(...rates)].map((n) => n.toLocaleString("en-US"));
  return rates.length > 1 ? `${min}–${max}` : `${max}`;
}

/** Tables for the markdown report: throughput/latency, idle memory, and ratios against connect-node. */
export function buildTables(runs: ServerRun[]): Table[] {
  const load: Cell[][] = [];
  for (const phase of loadPhases(runs))
    for (const run of runs) {
      const { best: f, all } = rounds(run, phase);
      if (!f) continue;
      const l = f.load.latency;
      const flag = f.otherCpuPct > contendedOtherCpuPct ? " ⚠" : "";
      load.push([
        phase,
        `${run.server}${flag}`,
        relayedPerSecond(f),
        spread(all),
        l.p50,
        l.p95,
        l.p99,
        l.max,
        f.serverCpuPct,
        serverMicrosPerMessage(f),
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
      title: "Relay throughput and round-trip latency (1 round trip = A→server→B→server→A = 2 relayed messages)",
      columns: [
        "phase",
        "server",
        "relayed msg/s",
        "msg/s all rounds",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "server CPU %",
        "server CPU µs/msg",
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
  const ratio = (pick: (r: ServerRun) => number | undefined, lowerIsBetter: boolean): Cell[] =>
    (["grpc-js", "peerjs"] as const).map((s) => {
      const run = by(s);
      const a = run && pick(run);
      const b = pick(base);
      if (a === undefined || b === undefined || !(a > 0) || !(b > 0)) return "–";
      return `${(lowerIsBetter ? b / a : a / b).toFixed(2)}x`;
    });
  const rows: Cell[][] = [];
  for (const phase of loadPhases(runs)) {
    const f = (r: ServerRun) => rounds(r, phase).best;
    const pick = (g: (x: LoadFigures) => number) => (r: ServerRun) => {
      const x = f(r);
      return x && g(x);
    };
    rows.push([`${phase}: relayed msg/s`, ...ratio(pick(relayedPerSecond), false)]);
    rows.push([
      `${phase}: p99 latency (lower is better)`,
      ...ratio(
        pick((x) => x.load.latency.p99),
        true,
      ),
    ]);
    rows.push([`${phase}: server CPU per message (lower is better)`, ...ratio(pick(serverMicrosPerMessage), true)]);
  }
  rows.push([
    "idle RSS per stream (lower is better)",
    ...ratio((r) => r.idle && r.idle.rssDeltaBytes / r.idle.streams, true),
  ]);
  return rows;
}

/** Bar charts per phase (msg/s, p99, CPU per message) and RSS per idle stream, one bar per server. */
export function buildCharts(runs: ServerRun[]): BarChart[] {
  const perPhase = (value: (f: LoadFigures) => number) =>
    loadPhases(runs).flatMap((phase) =>
      runs.flatMap((r) => {
        const f = rounds(r, phase).best;
        return f ? [{ category: phase, series: r.server, value: value(f) }] : [];
      }),
    );
  return [
    { title: "Relayed messages per second (higher is better)", unit: "msg/s", bars: perPhase(relayedPerSecond) },
    { title: "Round-trip p99 (lower is better)", unit: "ms", bars: perPhase((f) => f.load.latency.p99) },
    { title: "Server CPU per relayed message (lower is better)", unit: "µs", bars: perPhase(serverMicrosPerMessage) },
    {
      title: "RSS per idle stream (lower is better)",
      unit: "KB",
      bars: runs.flatMap((r) =>
        r.idle ? [{ category: "idle", series: r.server, value: kb(r.idle.rssDeltaBytes / r.idle.streams) }] : [],
      ),
    },
  ];
}
