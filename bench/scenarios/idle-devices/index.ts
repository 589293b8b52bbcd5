import { setTimeout as sleep } from "node:timers/promises";
import type { Child } from "../../lib/children.ts";
import type { Scenario, ScenarioContext, ScenarioResult } from "../../lib/scenario.ts";
import { type Http2Engine, startFullServer } from "../full-server/start.ts";
import { openWindow, serverMemory } from "../full-server/window.ts";
import type { GcDoneMessage } from "../relay-transport/protocol.ts";
import type { IdleSpec } from "./loadgen.ts";
import { type IdleRun, idleCharts, idleFigures, idleTables } from "./report.ts";

/** One idle measurement: engine, devices and how many load generator processes open them. */
export type IdlePlan = { engine: Http2Engine; devices: number; loadgens: number; idleMs: number };

/**
 * Devices per engine. The file descriptor limit here is 20,000 per process (`ulimit -Hn`),
 * and the server holds one socket per device, so the full run stays just under it.
 */
export function planIdle(quick: boolean): IdlePlan[] {
  if (quick) return [{ engine: "grpc-js", devices: 2000, loadgens: 2, idleMs: 3000 }];
  return [
    { engine: "grpc-js", devices: 18_000, loadgens: 4, idleMs: 15_000 },
    { engine: "connect-node", devices: 6000, loadgens: 2, idleMs: 10_000 },
  ];
}

function planSeconds(p: IdlePlan): number {
  return 4 + p.devices / 700 + p.idleMs / 1000 + 4;
}

async function settledMemory(server: Child) {
  await sleep(500);
  server.send({ type: "gc" });
  const gc = await server.waitFor<GcDoneMessage>("gc-done", 20_000);
  return { ...serverMemory(server.pid), heapUsedBytes: gc.heapUsedBytes };
}

async function measure(ctx: ScenarioContext, plan: IdlePlan): Promise<IdleRun> {
  const server = await startFullServer(ctx.children, plan.engine);
  const loadgens: Child[] = [];
  try {
    const before = await settledMemory(server.child);
    const opening = openWindow(server.child.pid, []);
    for (let i = 0; i < plan.loadgens; i++) {
      const loadgen = ctx.children.spawn(`idle-loadgen-${i}`, `${import.meta.dirname}/loadgen.ts`);
      loadgens.push(loadgen);
      const share = Math.floor(plan.devices / plan.loadgens) + (i < plan.devices % plan.loadgens ? 1 : 0);
      const spec: IdleSpec = { port: server.port, devices: share, concurrency: 48 };
      loadgen.send({ type: "start", spec });
    }
    const opened = await Promise.all(
      loadgens.map((l) => l.waitFor<{ type: "opened"; devices: number; openMs: number }>("opened", 240_000)),
    );
    const open = opening.close();
    const after = await settledMemory(server.child);
    const idle = openWindow(server.child.pid, []);
    await sleep(plan.idleMs);
    const idleWindow = idle.close();
    for (const l of loadgens) l.send({ type: "release" });
    const results = await Promise.all(
      loadgens.map((l) =>
        l.waitFor<{ type: "result"; result: { errors: number; errorSamples: string[] } }>("result", 60_000),
      ),
    );
    return {
      plan,
      devices: opened.reduce((s, o) => s + o.devices, 0),
      openMs: Math.max(...opened.map((o) => o.openMs)),
      before,
      after,
      open,
      idle: idleWindow,
      errors: results.reduce((s, r) => s + r.result.errors, 0),
      errorSamples: results.flatMap((r) => r.result.errorSamples).slice(0, 5),
    };
  } finally {
    await Promise.all(loadgens.map((l) => l.stop()));
    await server.child.stop();
  }
}

async function run(ctx: ScenarioContext): Promise<ScenarioResult> {
  const runs: IdleRun[] = [];
  const failures: string[] = [];
  for (const plan of planIdle(ctx.quick)) {
    await ctx.progress.step(`idle-devices: ${plan.devices} on ${plan.engine}`, planSeconds(plan), async () => {
      try {
        runs.push(await measure(ctx, plan));
      } catch (e) {
        failures.push(`${plan.engine} ${plan.devices} devices FAILED: ${(e as Error).message.split("\n")[0]}`);
        ctx.progress.log(`idle-devices: ${failures.at(-1)}`);
      }
    });
  }
  return {
    scenario: "idle-devices",
    description: idleDevices.description,
    tables: idleTables(runs),
    charts: idleCharts(runs),
    notes: [
      "Fresh real server per row; devices opened by several load generator processes (48 opens in flight each), every device its own user, JWT, HTTP/2 connection and Connect stream (hello → sessionReady), then silent.",
      "Memory: server RSS and JS heap after two forced GCs, before opening and after all devices are open; the delta divided by devices. CPU 'per connect' is the server's CPU during the opening phase / devices (auth, session, stream setup).",
      "Idle CPU comes from HTTP/2 keepalive pings (server: every 60 s per connection) and timers. 'projected RSS at 100k devices' = baseline + 100k × per-device delta: the §12 bar is ≥ 100k idle devices per 2-core pod within 4 GiB. The file descriptor limit here (20,000 per process) keeps a real 100k test off this machine.",
      ...failures,
      ...runs.flatMap((r) => r.errorSamples.map((s) => `${r.plan.engine} error sample: ${s}`)),
    ],
    data: runs.map((r) => ({ ...r, figures: idleFigures(r) })),
  };
}

/** Many connected idle devices on the full server: memory per device, CPU at idle and per connect. */
const idleDevices: Scenario = {
  name: "idle-devices",
  description:
    "Many connected idle mobile devices on the full server (one HTTP/2 connection and Connect stream each): RSS and heap per device, CPU per connect and at idle.",
  estimateSeconds: (quick) => planIdle(quick).reduce((s, p) => s + planSeconds(p), 0),
  run,
};

export default idleDevices;
