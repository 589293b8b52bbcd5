import { encodeSampleWindow } from "../../../src/adapters/store/sample-window-codec.ts";
import type { Scenario, ScenarioContext, ScenarioResult } from "../../lib/scenario.ts";
import { driveLoadgen } from "../full-server/drive.ts";
import { startFullServer } from "../full-server/start.ts";
import type { QualityResult, QualitySpec } from "./protocol.ts";
import { phaseFigures, type QualityFigures, type QualityRun, qualityCharts, qualityTables } from "./report.ts";

/** Production: a report per device every 5 s, windows of 30 s (config calls.sampleWindowMs). */
const productionEveryMs = 5000;
const productionWindowMs = 30_000;

/** Devices report 12.5× as often as in production; the window shrinks alike, so it holds as many samples (12 per call). */
export function planQuality(quick: boolean) {
  const everyMs = 400;
  const common = {
    calls: quick ? 50 : 100,
    everyMs,
    sdpBytes: 1000,
    warmupMs: quick ? 1500 : 3000,
    measureMs: quick ? 5000 : 15_000,
  };
  const windowMs = (productionWindowMs * everyMs) / productionEveryMs;
  return [
    { label: "quality reports, rollup off (before)", windowMs: 0, spec: { ...common, kind: "quality" as const } },
    { label: "quality reports, rollup on", windowMs, spec: { ...common, kind: "quality" as const } },
    { label: "relayed ~1 KB description", windowMs, spec: { ...common, kind: "relay" as const } },
  ];
}

type Plan = ReturnType<typeof planQuality>[number];

function phaseSeconds(p: Plan): number {
  return 4 + p.spec.calls / 100 + (p.spec.warmupMs + p.spec.measureMs) / 1000;
}

/** Bytes per sample of a stored window as production fills it: 12 samples, both participants. */
export function windowBytesPerSample(): number {
  const users = ["5f0c6a52-3e0b-4c8e-9d57-2a8f6b1c9e01", "a3d91e7c-6b2f-4f10-8e4a-c0b7d2e5f6a9"];
  const samples = Array.from({ length: 12 }, (_, i) => ({
    userId: users[i % 2] as string,
    atMs: 1_764_000_000_000 + i * 2500,
    fractionLost: 0.0123,
    jitterMs: 4.25,
    rttMs: 38.5,
    availableOutgoingBitrateBps: 1_487_320,
    sentBitrateBps: 1_203_884,
    frameWidth: 1280,
    frameHeight: 720,
    framesPerSecond: 29.97,
    qualityStep: 0,
    qualityLimitationReason: "none",
    path: "p2p" as const,
  }));
  return Buffer.byteLength(encodeSampleWindow(samples)) / samples.length;
}

async function run(ctx: ScenarioContext): Promise<ScenarioResult> {
  const runs: QualityRun[] = [];
  const failures: string[] = [];
  const plans = planQuality(ctx.quick);
  for (const windowMs of [...new Set(plans.map((p) => p.windowMs))]) {
    const server = await startFullServer(ctx.children, "grpc-js", {
      calls: { sampleWindowMs: windowMs },
    });
    try {
      for (const plan of plans.filter((p) => p.windowMs === windowMs)) {
        await ctx.progress.step(`quality-reports: ${plan.label}`, phaseSeconds(plan), async () => {
          try {
            const spec: QualitySpec = { ...plan.spec, port: server.port };
            const driven = await driveLoadgen<QualityResult>(
              ctx.children,
              server.child,
              `${import.meta.dirname}/loadgen.ts`,
              spec,
            );
            runs.push({ label: plan.label, windowMs, spec: plan.spec, ...driven });
          } catch (e) {
            failures.push(`${plan.label} FAILED: ${(e as Error).message.split("\n")[0]}`);
            ctx.progress.log(`quality-reports: ${failures.at(-1)}`);
          }
        });
      }
    } finally {
      await server.child.stop();
    }
  }
  const phases = runs.map(phaseFigures);
  const figures: QualityFigures = {
    phases,
    ...(phases[0] ? { before: phases[0] } : {}),
    ...(phases.find((p) => p.kind === "quality" && p.windowMs > 0)
      ? { after: phases.find((p) => p.kind === "quality" && p.windowMs > 0) }
      : {}),
    ...(phases.find((p) => p.kind === "relay") ? { relay: phases.find((p) => p.kind === "relay") } : {}),
    windowBytesPerSample: windowBytesPerSample(),
  };
  return {
    scenario: "quality-reports",
    description: qualityReports.description,
    tables: qualityTables(figures),
    charts: qualityCharts(figures),
    notes: [
      "Real server (http2Engine grpc-js, embedded sqlite store, raised rate limits), one load generator; every device its own user and HTTP/2 connection, in a connected call.",
      `Each device sends a command every ${plans[0]?.spec.everyMs} ms: 12.5× production's report rate (one per ${productionEveryMs / 1000} s), so the rollup window is scaled alike (${(productionWindowMs * (plans[0]?.spec.everyMs ?? 0)) / productionEveryMs} ms instead of ${productionWindowMs / 1000} s) to hold as many samples per call as in production.`,
      "'rollup off' is calls.sampleWindowMs 0: every report is written at once, one row each, as before sample windows. The rollup-on and relayed phases share one server.",
      "Per command the server answered in the window (command_result or error): CPU and 'sample writes/report' (its add_sample_window store operations, from /metrics).",
      `A stored window takes ${figures.windowBytesPerSample.toFixed(0)} B per sample (compact text, 12 samples, 36-character user ids).`,
      ...failures,
      ...runs.flatMap((r) => r.result.errorSamples.map((s) => `${r.label} error sample: ${s}`)),
    ],
    data: { runs, figures },
  };
}

/** Server CPU and store writes per quality report with and without the per-call rollup, beside a relayed message. */
const qualityReports: Scenario = {
  name: "quality-reports",
  description:
    "Connected calls on the full server sending quality reports (rollup off, then on) or relayed descriptions at the same paced rate: server CPU per command and sample store writes per report.",
  estimateSeconds: (quick) => planQuality(quick).reduce((s, p) => s + phaseSeconds(p), 0),
  run,
};

export default qualityReports;
