import type { Child } from "../../lib/children.ts";
import type { Scenario, ScenarioContext, ScenarioResult } from "../../lib/scenario.ts";
import { startFullServer } from "../full-server/start.ts";
import type { ListeningMessage, LoadSpec } from "../relay-transport/protocol.ts";
import { measureCompare } from "./measure.ts";
import { comparePhaseSeconds, compareRounds, compareServers, planComparePhases } from "./plan.ts";
import { type CompareRun, compareCharts, compareFigures, compareTables } from "./report.ts";

type Running = { run: CompareRun; transport: LoadSpec["transport"]; child: Child; port: number };

async function start(ctx: ScenarioContext, server: (typeof compareServers)[number]): Promise<Running> {
  const run: CompareRun = { server: server.name, phases: [] };
  if (server.kind === "calldrop") {
    const s = await startFullServer(ctx.children, server.engine);
    return { run, transport: server.transport, child: s.child, port: s.port };
  }
  const child = ctx.children.spawn(server.kind, `${import.meta.dirname}/../relay-transport/servers/${server.kind}.ts`, {
    execArgv: ["--expose-gc"],
  });
  const { port } = await child.waitFor<ListeningMessage>("listening", 15_000);
  return { run, transport: server.transport, child, port };
}

async function run(ctx: ScenarioContext): Promise<ScenarioResult> {
  const phases = planComparePhases(ctx.quick);
  const rounds = compareRounds(ctx.quick);
  const started: Running[] = [];
  try {
    for (const server of compareServers) started.push(await start(ctx, server));
    for (let round = 1; round <= rounds; round++)
      for (const phase of phases)
        for (const s of round % 2 ? started : [...started].reverse())
          await ctx.progress.step(
            `relay-compare round ${round}/${rounds} ${s.run.server}: ${phase.name}`,
            comparePhaseSeconds(phase),
            async () => {
              if (s.run.failure) return;
              try {
                const spec = { ...phase.load, transport: s.transport, port: s.port } as LoadSpec;
                s.run.phases.push({
                  phase: phase.name,
                  round,
                  figures: await measureCompare(ctx.children, s.child, spec),
                });
              } catch (e) {
                s.run.failure = (e as Error).message;
                ctx.progress.log(`relay-compare: ${s.run.server} failed: ${s.run.failure.split("\n")[0]}`);
              }
            },
          );
  } finally {
    await Promise.all(started.map((s) => s.child.stop()));
  }
  const runs = started.map((s) => s.run);
  return {
    scenario: "relay-compare",
    description: relayCompare.description,
    tables: compareTables(runs, phases),
    charts: compareCharts(runs, phases),
    notes: [
      "All four servers run as their own child processes for the whole scenario (each idle while another is measured); a fresh load generator process per phase and server: @grpc/grpc-js clients for the three gRPC servers, ws for PeerJS, one connection per device.",
      "Workload (relay-transport's): pairs A/B, A sends ~1 KB SDP offers, B answers each at once; latency is the round trip at A (2 hops, so it bounds the per-hop p99 from above). On the full server A and B are real users with JWTs in a real accepted call; every description is a command that is validated, rate-limited (limits raised for the bench), made idempotent, routed through the call state machine and acknowledged with a command_result to its sender besides the relayed event: the full protocol, not a shortcut.",
      `Rounds: ${rounds}; each cell is the round with the least 'other CPU %' (load from other users of this shared 2-core machine); 'msg/s all rounds' shows the spread. 'server CPU µs/msg' is the figure least sensitive to that contention.`,
      ...runs.flatMap((r) => [
        ...(r.failure ? [`${r.server} FAILED: ${r.failure.split("\n")[0]}`] : []),
        ...r.phases
          .flatMap((p) => p.figures.load.errorSamples.map((e) => `${r.server} error sample: ${e}`))
          .slice(0, 3),
      ]),
    ],
    data: { phases, rounds, runs, figures: compareFigures(runs, phases) },
  };
}

/** Full server (both HTTP/2 engines) vs PeerJS server vs bare grpc-js relay, same workload, one run. */
const relayCompare: Scenario = {
  name: "relay-compare",
  description:
    "Side by side in one run: the full CallDrop server (http2Engine grpc-js and connect-node) vs the PeerJS server vs a bare @grpc/grpc-js relay, relaying the same ~1 KB offer/answer traffic saturated and paced; ratios and the §12 relay bars.",
  estimateSeconds: (quick) =>
    compareServers.length *
    (1 + compareRounds(quick) * planComparePhases(quick).reduce((s, p) => s + comparePhaseSeconds(p), 0)),
  run,
};

export default relayCompare;
