/**
 * The call-events bench: the steady-calls load on the full server twice in one
 * run, without and with 10 CallEventsService.Subscribe consumers (each its own group, so each gets
 * every event): events per second streamed to them, their lag, and the server CPU per call in
 * both phases, with the ratio. CPU per streamed event = the extra CPU / events streamed, and what
 * one core could stream at that cost.
 */
import type { Scenario, ScenarioContext, ScenarioResult } from "../../lib/scenario.ts";
import { perSecond } from "../../lib/stats.ts";
import { type Driven, driveLoadgen } from "../full-server/drive.ts";
import { startFullServer } from "../full-server/start.ts";
import { planSteady } from "../steady-calls/index.ts";
import type { SteadyResult, SteadySpec } from "../steady-calls/protocol.ts";
import type { ConsumersCount } from "./protocol.ts";

const consumerCount = 10;
const groups = Array.from({ length: consumerCount }, (_, i) => `bench${i}`);

type Phase = { consumers: number; driven: Driven<SteadyResult>; count?: ConsumersCount };

const phaseSeconds = (quick: boolean) =>
  planSteady(quick).reduce((s, p) => s + 6 + p.calls / 250 + (p.rampMs + p.warmupMs + p.measureMs) / 1000, 0);

async function runPhase(ctx: ScenarioContext, consumers: number): Promise<Phase[]> {
  const phases: Phase[] = [];
  for (const plan of planSteady(ctx.quick)) {
    const server = await startFullServer(ctx.children, "grpc-js", {
      limits: {},
      events: { consumerGroups: groups },
    });
    const consumer = consumers > 0 ? ctx.children.spawn("consumers", `${import.meta.dirname}/consumers.ts`) : undefined;
    try {
      if (consumer) {
        consumer.send({ type: "start", spec: { port: server.port, groups: groups.slice(0, consumers) } });
        await consumer.waitFor("opened", 30_000);
      }
      let counted: Promise<ConsumersCount> | undefined;
      const spec: SteadySpec = { ...plan, port: server.port };
      const driven = await driveLoadgen<SteadyResult>(
        ctx.children,
        server.child,
        `${import.meta.dirname}/../steady-calls/loadgen.ts`,
        spec,
        90_000,
        {
          opened: () => consumer?.send({ type: "window-open" }),
          closed: () => {
            counted = consumer?.waitFor<ConsumersCount>("counted", 30_000);
            consumer?.send({ type: "window-close" });
          },
        },
      );
      phases.push({ consumers, driven, ...(counted ? { count: await counted } : {}) });
    } finally {
      await consumer?.stop();
      await server.child.stop();
    }
  }
  return phases;
}

/** Server CPU µs per client command of the steady-calls mix in the window (many per call: a stable load unit). */
const cpuPerCommand = (p: Phase) => (p.driven.window.serverCpuMs * 1000) / Math.max(1, p.driven.result.commandsSent);
/** Client commands per call started (the mix: offer/answer, candidates, quality reports, hangup). */
const commandsPerCall = (p: Phase) => p.driven.result.commandsSent / Math.max(1, p.driven.result.callsStarted);
/** Server CPU ms per call: per-command cost × commands per call. */
const cpuPerCall = (p: Phase) => (cpuPerCommand(p) * commandsPerCall(p)) / 1000;

async function run(ctx: ScenarioContext): Promise<ScenarioResult> {
  const without = await ctx.progress.step("call-events: steady calls, no consumers", phaseSeconds(ctx.quick), () =>
    runPhase(ctx, 0),
  );
  const withConsumers = await ctx.progress.step(
    `call-events: steady calls, ${consumerCount} consumers`,
    phaseSeconds(ctx.quick),
    () => runPhase(ctx, consumerCount),
  );
  const rows = without.map((a, i) => {
    const b = withConsumers[i] as Phase;
    const events = b.count?.events ?? 0;
    // Normalised by the load (client commands), so phases whose rates differ (a shared machine) still compare.
    const extraCpuUs = b.driven.window.serverCpuMs * 1000 - cpuPerCommand(a) * b.driven.result.commandsSent;
    const usPerEvent = events > 0 ? extraCpuUs / events : Number.NaN;
    return {
      slots: planSteady(ctx.quick)[i]?.calls ?? 0,
      a,
      b,
      eventsPerSecond: perSecond(events, b.count?.measuredMs ?? 1),
      usPerEvent,
      perCore: usPerEvent > 0 ? 1e6 / usPerEvent : Number.NaN,
      ratio: cpuPerCommand(b) / cpuPerCommand(a),
    };
  });
  return {
    scenario: "call-events",
    description: callEvents.description,
    tables: [
      {
        title: `Call events: steady-calls load without and with ${consumerCount} Subscribe consumers (window figures)`,
        columns: [
          "slots",
          "consumers",
          "calls started/s",
          "server CPU %",
          "server CPU wait %",
          "server CPU µs/cmd",
          "cmds/call",
          "server CPU ms/call",
          "events/s streamed",
          "lag p50 ms",
          "lag p99 ms",
          "hop p99 ms",
          "errors",
        ],
        rows: rows.flatMap((r) =>
          [r.a, r.b].map((p) => [
            r.slots,
            p.consumers,
            perSecond(p.driven.result.callsStarted, p.driven.result.measuredMs),
            p.driven.window.serverCpuPct,
            p.driven.window.serverWaitPct,
            cpuPerCommand(p),
            commandsPerCall(p),
            cpuPerCall(p),
            p.count ? perSecond(p.count.events, p.count.measuredMs) : 0,
            p.count?.lag.p50 ?? 0,
            p.count?.lag.p99 ?? 0,
            p.driven.result.hop.p99,
            p.driven.result.errors + (p.count?.errors ?? 0),
          ]),
        ),
      },
      {
        title: "Call events: cost of streaming",
        columns: [
          "events/s to 10 consumers",
          "CPU per call (per command) with / without",
          "server CPU µs per event streamed",
          "events/s per core at that cost",
        ],
        rows: rows.map((r) => [r.eventsPerSecond, r.ratio, r.usPerEvent, r.perCore]),
      },
    ],
    charts: [],
    notes: [
      `Each phase on a fresh real server (grpc-js engine, embedded sqlite, events.pollIntervalMs 250) under the steady-calls load (bench/scenarios/steady-calls); the second phase adds ${consumerCount} CallEventsService.Subscribe streams from one child process, each the only member of its own group, so every event is sent ${consumerCount} times.`,
      "Lag = the event's occurred_at → its arrival at a consumer; it includes up to one poll interval (250 ms) of the feed.",
      "'CPU per call' = server CPU per client command × commands per call; with / without is the ratio of the per-command costs. 'CPU µs per event' = (server CPU with consumers − its commands at the per-command cost without) / events streamed; the phases run one after the other on a shared machine (see the wait column), so small differences are noise. 'events/s per core' is 10⁶ / that.",
      ...[...without, ...withConsumers].flatMap((p) => p.count?.errorSamples ?? []),
    ],
    data: rows.map((r) => ({ ...r, a: r.a, b: r.b })),
  };
}

/** The steady-calls load with and without 10 call-event consumers. */
const callEvents: Scenario = {
  name: "call-events",
  description:
    "The steady-calls load on the full server without and with 10 CallEventsService.Subscribe consumers: events/s streamed, consumer lag, server CPU per call (ratio) and per streamed event.",
  estimateSeconds: (quick) => 2 * phaseSeconds(quick),
  run,
};

export default callEvents;
