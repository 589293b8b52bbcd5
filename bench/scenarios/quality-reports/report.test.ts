import assert from "node:assert/strict";
import { test } from "node:test";
import { windowBytesPerSample } from "./index.ts";
import { phaseFigures, type QualityRun } from "./report.ts";

const run = (kind: "quality" | "relay", acked: number, sampleWrites: number): QualityRun =>
  ({
    label: kind,
    windowMs: 2400,
    spec: { calls: 10, everyMs: 400, kind, sdpBytes: 1000, warmupMs: 1, measureMs: 10_000 },
    result: {
      measuredMs: 10_000,
      sent: 900,
      acked,
      relayedReceived: 0,
      sampleWrites,
      errors: 0,
      errorSamples: [],
      openMs: 1,
    },
    window: { serverCpuMs: 300, serverWaitPct: 5, otherCpuPct: 10 },
  }) as unknown as QualityRun;

test("per command the server answered: CPU and sample writes per report", () => {
  const f = phaseFigures(run("quality", 1000, 80));
  assert.equal(f.commandsPerSecond, 100);
  assert.equal(f.serverCpuUsPerCommand, 300);
  assert.equal(f.sampleWritesPerReport, 0.08);
  assert.equal(phaseFigures(run("relay", 1000, 0)).sampleWritesPerReport, 0);
});

test("a stored window costs well under the 200 B of a one-sample row per sample", () => {
  const bytes = windowBytesPerSample();
  assert.ok(bytes > 40 && bytes < 120, `${bytes} B`);
});
