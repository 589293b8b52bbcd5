import type { Scenario, ScenarioContext, ScenarioResult } from "../../lib/scenario.ts";
import { driveLoadgen } from "../full-server/drive.ts";
import { startFullServer } from "../full-server/start.ts";
import type { SteadyResult, SteadySpec } from "./protocol.ts";
import { type SteadyRun, steadyCharts, steadyFigures, steadyTables } from "./report.ts";

/** The sizes (concurrent calls) and the per-size timing. */
export function planSteady(quick: boolean): Omit<SteadySpec, "port">[] {
  const common = { candidatesPerSide: 10, candidateGapMs: 20, qualityEveryMs: 5000, sdpBytes: 2400 };
  if (quick) return [{ ...common, calls: 200, rampMs: 1500, warmupMs: 1000, measureMs: 7000, holdMs: [3000, 8000] }];
  return [200, 500, 1000].map((calls) => ({
    ...common,
    calls,
    rampMs: 4000,
    warmupMs: 3000,
    measureMs: 20_000,
    holdMs: [10_000, 30_000] as [number, number],
  }));
}

function sizeSeconds(p: Omit<SteadySpec, "port">): number {
  return 3 + p.calls / 250 + (p.rampMs + p.warmupMs + p.measureMs) / 1000 + 2;
}

async function run(ctx: ScenarioContext): Promise<ScenarioResult> {
  const runs: SteadyRun[] = [];
  const failures: string[] = [];
  for (const plan of planSteady(ctx.quick)) {
    await ctx.progress.step(`steady-calls: ${plan.calls} calls`, sizeSeconds(plan), async () => {
      // Production rate limits: a steady call's traffic per user stays well inside them.
      const server = await startFullServer(ctx.children, "grpc-js", { limits: {} });
      try {
        const spec: SteadySpec = { ...plan, port: server.port };
        const driven = await driveLoadgen<SteadyResult>(
          ctx.children,
          server.child,
          `${import.meta.dirname}/loadgen.ts`,
          spec,
        );
        runs.push({ spec: plan, ...driven });
      } catch (e) {
        failures.push(`${plan.calls} calls FAILED: ${(e as Error).message.split("\n")[0]}`);
        ctx.progress.log(`steady-calls: ${failures.at(-1)}`);
      } finally {
        await server.child.stop();
      }
    });
  }
  return {
    scenario: "steady-calls",
    description: steadyCalls.description,
    tables: steadyTables(runs),
    charts: steadyCharts(runs),
    notes: [
      "Each size on a fresh real server (http2Engine grpc-js, embedded sqlite store, production rate limits) and one load generator process; every device is its own user with its own HTTP/2 connection.",
      "A call slot loops: startCall → accept → offer (2.4 KB SDP) / answer → 10 candidates per side trickled 20 ms apart + end-of-candidates → mediaState connected → a quality report per side every 5 s (one store write each) → hangup after a random hold → next call. Offers, answers and candidates carry their send time: 'hop' is sender → server → peer, measured at the peer.",
      "'server CPU µs/cmd' = server CPU time / client commands in the window (the mix above; each command also produces a command_result event, relayed ones an event to the peer).",
      "'server CPU wait %' is the share of the window the server's event-loop thread was runnable but waiting for a CPU (/proc/<pid>/schedstat): other users of this shared 2-core machine. The server runs each stream's commands one after another, so when it falls behind, a device's queued candidates wait for every other busy stream in turn: latency then grows with the backlog (seconds at 1,000 calls when the server waited ~40% of the window), far beyond its CPU cost. Rows marked ⚠ measure the machine, not the server.",
      ...failures,
      ...runs.flatMap((r) => r.result.errorSamples.map((s) => `${r.spec.calls} calls error sample: ${s}`)),
    ],
    data: runs.map((r) => ({ ...r, figures: steadyFigures(r) })),
  };
}

/** N concurrent calls exchanging offer/answer, trickle ICE and quality reports on the full server. */
const steadyCalls: Scenario = {
  name: "steady-calls",
  description:
    "N concurrent calls on the full server, each doing offer/answer, 10 trickled ICE candidates per side and a quality report per side every 5 s, with call churn: signaling hop latency (payload timestamps), messages/s, server CPU and RSS.",
  estimateSeconds: (quick) => planSteady(quick).reduce((s, p) => s + sizeSeconds(p), 0),
  run,
};

export default steadyCalls;
