import type { BarChart, Table } from "../../lib/scenario.ts";
import { perSecond } from "../../lib/stats.ts";
import type { Driven } from "../full-server/drive.ts";
import type { SteadyResult, SteadySpec } from "./protocol.ts";

/** Above this % of the window spent waiting for a CPU, a row is marked ⚠ (latency dominated by other load). */
export const contendedWaitPct = 20;

/** One measured size. */
export type SteadyRun = Driven<SteadyResult> & { spec: Omit<SteadySpec, "port"> };

/** Headline figures of one size (also read by the capacity model). */
export type SteadyFigures = {
  calls: number;
  connectedMean: number;
  commandsPerSecond: number;
  eventsPerSecond: number;
  relayedPerSecond: number;
  /** Server CPU time per client command of the mix, µs. */
  serverCpuUsPerCommand: number;
  /** Server RSS per call slot (2 devices + the call), KB: whole RSS / slots, an upper bound. */
  rssKbPerCall: number;
  hopP99: number;
  errors: number;
};

/** Derives the headline figures. */
export function steadyFigures(run: SteadyRun): SteadyFigures {
  const r = run.result;
  return {
    calls: run.spec.calls,
    connectedMean: r.connectedCalls.mean,
    commandsPerSecond: perSecond(r.commandsSent, r.measuredMs),
    eventsPerSecond: perSecond(r.eventsReceived, r.measuredMs),
    relayedPerSecond: perSecond(r.relayedReceived, r.measuredMs),
    serverCpuUsPerCommand: r.commandsSent > 0 ? (run.window.serverCpuMs * 1000) / r.commandsSent : Number.NaN,
    rssKbPerCall: run.window.serverRssBytes / 1024 / run.spec.calls,
    hopP99: r.hop.p99,
    errors: r.errors,
  };
}

/** Tables: load and cost per size, then hop and setup latency percentiles per size. */
export function steadyTables(runs: SteadyRun[]): Table[] {
  const load = runs.map((run) => {
    const f = steadyFigures(run);
    const w = run.window;
    return [
      `${run.spec.calls}${w.serverWaitPct > contendedWaitPct ? " ⚠" : ""}`,
      f.connectedMean,
      f.commandsPerSecond,
      f.eventsPerSecond,
      f.relayedPerSecond,
      perSecond(run.result.qualityReports, run.result.measuredMs),
      w.serverCpuPct,
      f.serverCpuUsPerCommand,
      w.clientCpuPct,
      w.otherCpuPct,
      w.serverWaitPct,
      w.serverRssBytes / 1024 / 1024,
      f.errors,
    ];
  });
  const latency = runs.flatMap((run) => {
    const r = run.result;
    const row = (what: string, s: SteadyResult["hop"]) => [run.spec.calls, what, s.count, s.p50, s.p95, s.p99, s.max];
    return [
      row("hop: all relayed", r.hop),
      row("hop: offer/answer", r.descriptionHop),
      row("hop: ICE candidate", r.candidateHop),
      row("start → ringing", r.startToRinging),
      row("start → accepted", r.startToAccepted),
      row("command → command_result", r.ack),
    ];
  });
  return [
    {
      title: "Steady calls: load and server cost (window figures; ⚠ = server waited > 20% of the window for a CPU)",
      columns: [
        "calls",
        "connected (mean)",
        "commands/s in",
        "events/s out",
        "relayed msg/s",
        "quality reports/s",
        "server CPU %",
        "server CPU µs/cmd",
        "client CPU %",
        "other CPU %",
        "server CPU wait %",
        "server RSS MB",
        "errors",
      ],
      rows: load,
    },
    {
      title: "Steady calls: signaling latency (ms; hop = sender → server → peer)",
      columns: ["calls", "measure", "samples", "p50", "p95", "p99", "max"],
      rows: latency,
    },
  ];
}

/** Hop latency percentiles per size. */
export function steadyCharts(runs: SteadyRun[]): BarChart[] {
  return [
    {
      title: "steady-calls: signaling hop latency sender → peer (lower is better)",
      unit: "ms",
      bars: runs.flatMap((run) =>
        (["p50", "p95", "p99"] as const).map((p) => ({
          category: `${run.spec.calls} calls`,
          series: p,
          value: run.result.hop[p],
        })),
      ),
    },
  ];
}
