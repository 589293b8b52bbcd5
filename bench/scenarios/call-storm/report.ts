import type { BarChart, Table } from "../../lib/scenario.ts";
import { perSecond } from "../../lib/stats.ts";
import type { Driven } from "../full-server/drive.ts";
import type { StormResult, StormSpec } from "./protocol.ts";

/** One measured storm. */
export type StormRun = Driven<StormResult> & { spec: Omit<StormSpec, "port"> };

/** The storm's headline figures (also what the capacity model reads). */
export type StormFigures = {
  callsPerSecond: number;
  /** Server CPU time per completed call (start, ring, accept, hangup, 3 store writes), ms. */
  serverCpuMsPerCall: number;
  serverCpuPct: number;
  commandsPerSecond: number;
  eventsPerSecond: number;
  errors: number;
};

/** Derives the headline figures from a run. */
export function stormFigures(run: StormRun): StormFigures {
  const r = run.result;
  const calls = r.completedInWindow;
  const otherOutcomes = Object.values(r.otherOutcomes).reduce((a, b) => a + b, 0);
  return {
    callsPerSecond: perSecond(calls, r.measuredMs),
    serverCpuMsPerCall: calls > 0 ? run.window.serverCpuMs / calls : Number.NaN,
    serverCpuPct: run.window.serverCpuPct,
    commandsPerSecond: perSecond(r.commandsSent, r.measuredMs),
    eventsPerSecond: perSecond(r.eventsReceived, r.measuredMs),
    errors: r.errors + r.unfinished + otherOutcomes,
  };
}

const mb = (bytes: number) => bytes / 1024 / 1024;

/** Tables: throughput and cost, then the signaling time percentiles. */
export function stormTables(run: StormRun): Table[] {
  const f = stormFigures(run);
  const r = run.result;
  const w = run.window;
  const latency = (name: string, s: StormResult["startToRinging"]) => [name, s.count, s.p50, s.p95, s.p99, s.max];
  return [
    {
      title: `Call-start storm: ${run.spec.pairs} pairs, ${(r.measuredMs / 1000).toFixed(0)} s window`,
      columns: [
        "calls/s sustained",
        "calls started",
        "completed",
        "server CPU %",
        "server CPU ms/call",
        "client CPU %",
        "other CPU %",
        "server CPU wait %",
        "server RSS MB",
        "commands/s in",
        "events/s out",
        "errors",
      ],
      rows: [
        [
          f.callsPerSecond,
          r.started,
          r.completed,
          w.serverCpuPct,
          f.serverCpuMsPerCall,
          w.clientCpuPct,
          w.otherCpuPct,
          w.serverWaitPct,
          mb(w.serverRssBytes),
          f.commandsPerSecond,
          f.eventsPerSecond,
          f.errors,
        ],
      ],
    },
    {
      title: "Call setup signaling time (ms; calls started in the window)",
      columns: ["interval", "calls", "p50", "p95", "p99", "max"],
      rows: [
        latency("start → ringing (caller)", r.startToRinging),
        latency("start → incomingCall (callee)", r.startToIncoming),
        latency("start → callAccepted (caller; callee accepts at once)", r.startToAccepted),
      ],
    },
  ];
}

/** One chart: the setup time percentiles. */
export function stormCharts(run: StormRun): BarChart[] {
  const r = run.result;
  const bars = (series: string, s: StormResult["startToRinging"]) =>
    (["p50", "p95", "p99"] as const).map((p) => ({ category: p, series, value: s[p] }));
  return [
    {
      title: "call-storm: call setup signaling time (lower is better)",
      unit: "ms",
      bars: [...bars("start→ringing", r.startToRinging), ...bars("start→accepted", r.startToAccepted)],
    },
  ];
}
