import type { Scenario, ScenarioContext, ScenarioResult } from "../../lib/scenario.ts";
import { measureIdle, measureLoad, specFor } from "./measure.ts";
import { phaseSeconds, planPhases, servers } from "./plan.ts";
import type { ListeningMessage } from "./protocol.ts";
import { buildCharts, buildTables, type ServerRun } from "./report.ts";

const serverScript = (kind: string) => `${import.meta.dirname}/servers/${kind}.ts`;

async function run(ctx: ScenarioContext): Promise<ScenarioResult> {
  const phases = planPhases(ctx.quick);
  const runs: ServerRun[] = [];
  for (const { kind, transport } of servers) {
    const result: ServerRun = { server: kind, phases: [] };
    runs.push(result);
    const server = ctx.children.spawn(kind, serverScript(kind), { execArgv: ["--expose-gc"] });
    try {
      const { port } = await server.waitFor<ListeningMessage>("listening", 15_000);
      for (const phase of phases) {
        const spec = specFor(phase, transport, port);
        await ctx.progress.step(`${kind}: ${phase.name}`, phaseSeconds(phase), async () => {
          if (spec.mode === "idle") result.idle = await measureIdle(ctx.children, server, spec);
          else result.phases.push({ phase: phase.name, figures: await measureLoad(ctx.children, server, spec) });
        });
      }
    } catch (e) {
      result.failure = (e as Error).message;
      ctx.progress.log(`relay-transport: ${kind} failed: ${result.failure}`);
    } finally {
      await server.stop();
    }
  }
  const errorNotes = runs.flatMap((r) => [
    ...(r.failure ? [`${r.server} FAILED: ${r.failure.split("\n")[0]}`] : []),
    ...[...(r.idle?.errorSamples ?? []), ...r.phases.flatMap((p) => p.figures.load.errorSamples)].map(
      (s) => `${r.server} error sample: ${s}`,
    ),
  ]);
  return {
    scenario: "relay-transport",
    description: relayTransport.description,
    tables: buildTables(runs),
    charts: buildCharts(runs),
    notes: [
      "Each server is a separate child process; the load generator is another (grpc-js client for both gRPC servers, ws for PeerJS), each phase in a fresh load generator.",
      "Messages: SessionDescription with 950 bytes of SDP (≈1 KB relayed protobuf ServerEvent / PeerJS JSON); B answers every offer at once.",
      "CPU % is of one core (a process can exceed 100 with its GC/libuv threads). The machine has 2 cores shared with other users: 'other CPU %' is what everything else used during the window (up to 200 minus ours); high values mean the figures are contended. Expect ±30% between runs.",
      ...errorNotes,
    ],
    data: { phases, runs },
  };
}

/** Same SDP relay workload against connect-node, bare grpc-js and the PeerJS server, side by side. */
const relayTransport: Scenario = {
  name: "relay-transport",
  description:
    "Relay of ~1 KB offer/answer messages between paired streams: connect-node (h2c) vs bare @grpc/grpc-js vs PeerJS server (ws), saturated and paced, plus memory per idle stream.",
  estimateSeconds: (quick) => servers.length * (1 + planPhases(quick).reduce((s, p) => s + phaseSeconds(p), 0)),
  run,
};

export default relayTransport;
