import type { Child } from "../../lib/children.ts";
import type { Scenario, ScenarioContext, ScenarioResult } from "../../lib/scenario.ts";
import { measureIdle, measureLoad, specFor } from "./measure.ts";
import { phaseSeconds, planPhases, planRounds, servers } from "./plan.ts";
import type { ListeningMessage } from "./protocol.ts";
import { buildCharts, buildTables, type ServerRun } from "./report.ts";

const serverScript = (kind: string) => `${import.meta.dirname}/servers/${kind}.ts`;
type Running = { run: ServerRun; transport: "grpc" | "ws"; child: Child; port: number };

/** Runs `fn` for one server, recording a failure on it (and skipping it from then on) instead of aborting. */
async function guarded(ctx: ScenarioContext, s: Running, fn: () => Promise<void>): Promise<void> {
  if (s.run.failure) return;
  try {
    await fn();
  } catch (e) {
    s.run.failure = (e as Error).message;
    ctx.progress.log(`relay-transport: ${s.run.server} failed: ${s.run.failure}`);
  }
}

async function run(ctx: ScenarioContext): Promise<ScenarioResult> {
  const phases = planPhases(ctx.quick);
  const rounds = planRounds(ctx.quick);
  const started: Running[] = [];
  try {
    for (const { kind, transport } of servers) {
      const child = ctx.children.spawn(kind, serverScript(kind), { execArgv: ["--expose-gc"] });
      const { port } = await child.waitFor<ListeningMessage>("listening", 15_000);
      started.push({ run: { server: kind, phases: [] }, transport, child, port });
    }
    for (const phase of phases.filter((p) => p.load.mode === "idle"))
      for (const s of started)
        await ctx.progress.step(`${s.run.server}: ${phase.name}`, phaseSeconds(phase), () =>
          guarded(ctx, s, async () => {
            s.run.idle = await measureIdle(ctx.children, s.child, specFor(phase, s.transport, s.port));
          }),
        );
    for (let round = 1; round <= rounds; round++)
      for (const phase of phases.filter((p) => p.load.mode !== "idle"))
        for (const s of round % 2 ? started : [...started].reverse())
          await ctx.progress.step(`round ${round}/${rounds} ${s.run.server}: ${phase.name}`, phaseSeconds(phase), () =>
            guarded(ctx, s, async () => {
              const figures = await measureLoad(ctx.children, s.child, specFor(phase, s.transport, s.port));
              s.run.phases.push({ phase: phase.name, round, figures });
            }),
          );
  } finally {
    await Promise.all(started.map((s) => s.child.stop()));
  }
  const runs = started.map((s) => s.run);
  return {
    scenario: "relay-transport",
    description: relayTransport.description,
    tables: buildTables(runs),
    charts: buildCharts(runs),
    notes: [...notes(rounds), ...errorNotes(runs)],
    data: { phases, rounds, runs },
  };
}

function notes(rounds: number): string[] {
  return [
    "Each server is its own child process (all three up for the whole run, each idle while another is measured); the load generator is another process, fresh per phase: @grpc/grpc-js client for both gRPC servers, ws for PeerJS, one connection per device.",
    "Messages: SessionDescription with 950 bytes of SDP (≈1 KB relayed protobuf ServerEvent / PeerJS JSON); B answers every offer at once. Round-trip latency is measured at A.",
    `Rounds: ${rounds}; each row is the round with the least 'other CPU %' for that server and phase; 'msg/s all rounds' shows the spread.`,
    "CPU % is of one core (a process can exceed 100 with its GC/libuv threads). The machine has 2 cores shared with other users: 'other CPU %' is what everything else used during the window (up to 200 minus ours). Rows marked ⚠ had other CPU % > 50: contended, treat them with care. 'server CPU µs/msg' is the least sensitive figure to that contention.",
  ];
}

function errorNotes(runs: ServerRun[]): string[] {
  return runs.flatMap((r) => [
    ...(r.failure ? [`${r.server} FAILED: ${r.failure.split("\n")[0]}`] : []),
    ...[...(r.idle?.errorSamples ?? []), ...r.phases.flatMap((p) => p.figures.load.errorSamples)].map(
      (s) => `${r.server} error sample: ${s}`,
    ),
  ]);
}

/** Same SDP relay workload against connect-node, bare grpc-js and the PeerJS server, side by side. */
const relayTransport: Scenario = {
  name: "relay-transport",
  description:
    "Relay of ~1 KB offer/answer messages between paired streams: connect-node (h2c) vs bare @grpc/grpc-js vs PeerJS server (ws), saturated and paced, plus memory per idle stream.",
  estimateSeconds: (quick) =>
    servers.length *
    (1 + planPhases(quick).reduce((s, p) => s + phaseSeconds(p) * (p.load.mode === "idle" ? 1 : planRounds(quick)), 0)),
  run,
};

export default relayTransport;
