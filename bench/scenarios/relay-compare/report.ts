import type { BarChart, Cell, Table } from "../../lib/scenario.ts";
import type { Phase } from "../relay-transport/plan.ts";
import type { CompareFigures as LoadFigures } from "./measure.ts";
import type { CompareServerName } from "./plan.ts";

/** Everything measured against one server. */
export type CompareRun = {
  server: CompareServerName;
  phases: { phase: string; round: number; figures: LoadFigures }[];
  failure?: string;
};

/** The figures of one server in one phase (least contended round). */
export type CellFigures = {
  msgPerSecond: number;
  /** Relayed msg/s of every round, for the spread. */
  allRounds: number[];
  p50: number;
  p99: number;
  max: number;
  serverCpuPct: number;
  /** Server CPU per relayed message, µs (least sensitive to other load on the machine). */
  serverCpuUsPerMsg: number;
  otherCpuPct: number;
  /** % of the window the server's event loop waited for a CPU. */
  serverWaitPct: number;
  rssMb: number;
  errors: number;
};

/** A §12 bar, whether the measurement meets it (undefined: not decided here) and the verdict in words. */
export type BarVerdict = { bar: string; measured: string; met: boolean | undefined; verdict: string };

/**
 * Judges a throughput bar on both the msg/s of the same run and the per-core capacity (CPU per
 * message): on a shared machine one server can get more CPU than the other in its window, so the
 * bar counts as met only when both agree.
 */
export function throughputVerdict(rate: number, perCore: number, factor: number): Pick<BarVerdict, "met" | "verdict"> {
  if (!Number.isFinite(rate) || !Number.isFinite(perCore)) return { met: undefined, verdict: "–" };
  const byRate = rate >= factor;
  const byCpu = perCore >= factor;
  if (byRate && byCpu) return { met: true, verdict: "yes" };
  if (!byRate && !byCpu) return { met: false, verdict: "NO" };
  return {
    met: false,
    verdict: byRate ? "NO per core (msg/s only: the anchor got less CPU)" : "NO on msg/s (per core only)",
  };
}

/** Relayed messages per second of one measurement (a round trip is 2 relayed messages). */
export function relayedPerSecond(f: LoadFigures): number {
  return f.load.measuredMs > 0 ? (2 * f.load.roundTrips * 1000) / f.load.measuredMs : 0;
}

/** Least contended round of one server and phase, with the rates of every round. */
export function cell(run: CompareRun | undefined, phase: string): CellFigures | undefined {
  const all = run?.phases.filter((p) => p.phase === phase).map((p) => p.figures) ?? [];
  const best = all.reduce<LoadFigures | undefined>((b, f) => (!b || f.otherCpuPct < b.otherCpuPct ? f : b), undefined);
  if (!best) return undefined;
  const rate = relayedPerSecond(best);
  return {
    msgPerSecond: rate,
    allRounds: all.map(relayedPerSecond),
    p50: best.load.latency.p50,
    p99: best.load.latency.p99,
    max: best.load.latency.max,
    serverCpuPct: best.serverCpuPct,
    serverCpuUsPerMsg: rate > 0 ? (best.serverCpuPct / 100) * (1e6 / rate) : Number.NaN,
    otherCpuPct: best.otherCpuPct,
    serverWaitPct: best.serverWaitPct,
    rssMb: best.serverRssBytes / 1024 / 1024,
    errors: best.load.errors + best.load.unanswered,
  };
}

/** The full-server rows compared, and the anchors they are compared with. */
const fulls = ["calldrop grpc-js", "calldrop connect-node"] as const;
const anchors = ["peerjs", "bare grpc-js"] as const;

/** Ratio a / b as a number, NaN when either is missing or not positive. */
export function ratio(a: number | undefined, b: number | undefined): number {
  return a !== undefined && b !== undefined && a > 0 && b > 0 ? a / b : Number.NaN;
}

/** Headline figures: per phase and server, the ratios full / anchor, and the §12 verdicts. */
export function compareFigures(runs: CompareRun[], phases: Phase[]) {
  const saturated = phases.find((p) => p.load.mode === "saturated")?.name ?? "";
  const paced = phases.find((p) => p.load.mode === "paced")?.name ?? "";
  const cells = Object.fromEntries(
    phases.map((p) => [p.name, Object.fromEntries(runs.map((r) => [r.server, cell(r, p.name)]))]),
  ) as Record<string, Partial<Record<CompareServerName, CellFigures>>>;
  const ratios = fulls.flatMap((full) =>
    anchors.map((anchor) => ({
      full,
      anchor,
      saturatedMsgPerSecond: ratio(cells[saturated]?.[full]?.msgPerSecond, cells[saturated]?.[anchor]?.msgPerSecond),
      pacedP99: ratio(cells[paced]?.[full]?.p99, cells[paced]?.[anchor]?.p99),
      saturatedP99: ratio(cells[saturated]?.[full]?.p99, cells[saturated]?.[anchor]?.p99),
      cpuPerMsg: ratio(cells[saturated]?.[full]?.serverCpuUsPerMsg, cells[saturated]?.[anchor]?.serverCpuUsPerMsg),
    })),
  );
  const main = cells[saturated]?.["calldrop grpc-js"];
  const peer = cells[saturated]?.peerjs;
  const bare = cells[saturated]?.["bare grpc-js"];
  const pacedMain = cells[paced]?.["calldrop grpc-js"];
  const throughputBar = (anchor: CellFigures | undefined, name: string, factor: number): BarVerdict => {
    const rate = ratio(main?.msgPerSecond, anchor?.msgPerSecond);
    // Relay capacity of one core is 1 / CPU per message: the same comparison, free of who got more CPU.
    const perCore = ratio(anchor?.serverCpuUsPerMsg, main?.serverCpuUsPerMsg);
    return {
      bar: `full server ≥ ${factor === 1 ? "" : `${factor}x `}${name} relayed msg/s (saturated, same run)`,
      measured: `${fmt(main?.msgPerSecond)} vs ${fmt(anchor?.msgPerSecond)} msg/s = ${rate.toFixed(2)}x; per core (1/CPU per msg) ${perCore.toFixed(2)}x`,
      ...throughputVerdict(rate, perCore, factor),
    };
  };
  const bars: BarVerdict[] = [
    throughputBar(peer, "PeerJS", 1),
    throughputBar(bare, "bare @grpc/grpc-js", 0.8),
    {
      bar: "p99 < 10 ms per hop under load (paced; round trip = 2 hops bounds the hop p99)",
      measured: pacedMain ? `round-trip p99 ${pacedMain.p99.toFixed(1)} ms (p50 ${pacedMain.p50.toFixed(1)} ms)` : "–",
      met: pacedMain && pacedMain.p99 < 10 ? true : undefined,
      verdict: pacedMain && pacedMain.p99 < 10 ? "yes" : "not shown here (bound only; see steady-calls hop)",
    },
  ];
  return { saturated, paced, cells, ratios, bars };
}

function fmt(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? "–" : Math.round(x).toLocaleString("en-US");
}

/** Tables: per phase and server, ratios full / anchor, §12 bars. */
export function compareTables(runs: CompareRun[], phases: Phase[]): Table[] {
  const f = compareFigures(runs, phases);
  const rows: Cell[][] = [];
  for (const phase of phases)
    for (const run of runs) {
      const c = f.cells[phase.name]?.[run.server];
      if (!c) continue;
      const spread = c.allRounds.map((x) => Math.round(x).toLocaleString("en-US")).join(" / ");
      rows.push([
        phase.name,
        `${run.server}${c.otherCpuPct > 50 ? " ⚠" : ""}`,
        c.msgPerSecond,
        spread,
        c.p50,
        c.p99,
        c.max,
        c.serverCpuPct,
        c.serverCpuUsPerMsg,
        c.otherCpuPct,
        c.serverWaitPct,
        c.rssMb,
        c.errors,
      ]);
    }
  const x = (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}x` : "–");
  return [
    {
      title: "Relay side by side (round trip = 2 relayed messages; ⚠ = other CPU % > 50, contended)",
      columns: [
        "phase",
        "server",
        "relayed msg/s",
        "msg/s all rounds",
        "RT p50 ms",
        "RT p99 ms",
        "RT max ms",
        "server CPU %",
        "server CPU µs/msg",
        "other CPU %",
        "server CPU wait %",
        "server RSS MB",
        "errors",
      ],
      rows,
    },
    {
      title: "Ratios full server / anchor (msg/s: higher is better; p99 and CPU/msg: lower is better)",
      columns: ["full server", "anchor", "saturated msg/s", "saturated RT p99", "paced RT p99", "server CPU µs/msg"],
      rows: f.ratios.map((r) => [
        r.full,
        r.anchor,
        x(r.saturatedMsgPerSecond),
        x(r.saturatedP99),
        x(r.pacedP99),
        x(r.cpuPerMsg),
      ]),
    },
    {
      title: "§12 relay bars (full server = calldrop grpc-js, the default engine)",
      columns: ["bar", "measured", "met"],
      rows: f.bars.map((b) => [b.bar, b.measured, b.verdict]),
    },
  ];
}

/** Bars per phase: relayed msg/s, round-trip p99, CPU per message; one bar per server. */
export function compareCharts(runs: CompareRun[], phases: Phase[]): BarChart[] {
  const f = compareFigures(runs, phases);
  const per = (phase: string, value: (c: CellFigures) => number) =>
    runs.flatMap((r) => {
      const c = f.cells[phase]?.[r.server];
      return c ? [{ category: phase, series: r.server, value: value(c) }] : [];
    });
  return [
    {
      title: "relay-compare: relayed messages per second, saturated (higher is better)",
      unit: "msg/s",
      bars: per(f.saturated, (c) => c.msgPerSecond),
    },
    {
      title: "relay-compare: round-trip p99 (lower is better)",
      unit: "ms",
      bars: [...per(f.saturated, (c) => c.p99), ...per(f.paced, (c) => c.p99)],
    },
    {
      title: "relay-compare: server CPU per relayed message (lower is better)",
      unit: "µs",
      bars: per(f.saturated, (c) => c.serverCpuUsPerMsg),
    },
  ];
}
