import type { Scenario, ScenarioContext, ScenarioResult } from "../../lib/scenario.ts";
import { driveLoadgen } from "../full-server/drive.ts";
import { startFullServer } from "../full-server/start.ts";
import type { StormSpec } from "./protocol.ts";
import { type StormRun, stormCharts, stormFigures, stormTables } from "./report.ts";

/** Pairs, window and work bound of the storm. */
export function planStorm(quick: boolean): Omit<StormSpec, "port"> {
  return quick
    ? { pairs: 100, warmupMs: 1500, measureMs: 5000, maxCalls: 50_000 }
    : { pairs: 400, warmupMs: 3000, measureMs: 20_000, maxCalls: 500_000 };
}

async function run(ctx: ScenarioContext): Promise<ScenarioResult> {
  const plan = planStorm(ctx.quick);
  const server = await startFullServer(ctx.children, "grpc-js");
  let storm: StormRun;
  try {
    storm = await ctx.progress.step(`call-storm: ${plan.pairs} pairs`, estimate(ctx.quick) - 2, async () => {
      const spec: StormSpec = { ...plan, port: server.port };
      const driven = await driveLoadgen<import("./protocol.ts").StormResult>(
        ctx.children,
        server.child,
        `${import.meta.dirname}/loadgen.ts`,
        spec,
      );
      return { spec, ...driven };
    });
  } finally {
    await server.child.stop();
  }
  return {
    scenario: "call-storm",
    description: callStorm.description,
    tables: stormTables(storm),
    charts: stormCharts(storm),
    notes: [
      "Real server (src/compose.ts, http2Engine grpc-js, embedded sqlite store: 3 writes per call) in its own process; one load generator process (@grpc/grpc-js clients, one HTTP/2 connection per device, every device its own user with a JWT).",
      "Closed loop: each caller starts its next call as soon as the previous one ended, so the rate is what server + client sustain together on this 2-core machine (client CPU is shown). 'server CPU ms/call' is the cost figure the capacity model uses.",
      "Per-user rate limits are raised for the bench (production: 5 starts burst, 0.2/s per user), otherwise each caller would be refused after 5 calls.",
      ...storm.result.errorSamples.map((s) => `error sample: ${s}`),
    ],
    data: { ...storm, figures: stormFigures(storm) },
  };
}

function estimate(quick: boolean): number {
  const p = planStorm(quick);
  return 4 + (p.warmupMs + p.measureMs) / 1000 + (quick ? 3 : 6);
}

/** Call-start storm against the real server: calls/s sustained and start→ringing/accepted time. */
const callStorm: Scenario = {
  name: "call-storm",
  description:
    "Call-start storm on the full server: caller/callee pairs run start → ring → accept → hangup back to back; calls/s sustained, start→ringing and start→accepted signaling time, server CPU and RSS.",
  estimateSeconds: estimate,
  run,
};

export default callStorm;
