import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { ScenarioResult } from "../../lib/scenario.ts";
import { gatherInputs, latestFromFiles, standIns } from "./inputs.ts";

const result = (scenario: string, data: unknown): ScenarioResult => ({
  scenario,
  description: "",
  tables: [],
  charts: [],
  notes: [],
  data,
});
const storm = result("call-storm", {
  figures: { callsPerSecond: 500, serverCpuMsPerCall: 0.8, serverCpuPct: 40, commandsPerSecond: 1, eventsPerSecond: 1 },
  result: { startToRinging: { p99: 9 }, startToAccepted: { p99: 20 } },
});

describe("capacity inputs", () => {
  it("takes figures from this run's scenarios and marks the rest as assumed", () => {
    const idle = result("idle-devices", [
      { figures: { engine: "connect-node", devices: 9000, rssKbPerDevice: 90 } },
      { figures: { engine: "grpc-js", devices: 1000, rssKbPerDevice: 70 } },
      {
        figures: {
          engine: "grpc-js",
          devices: 5000,
          rssKbPerDevice: 50,
          baselineRssBytes: 100 * 1024 * 1024,
          serverCpuMsPerConnect: 1.2,
          idleCpuUsPerDeviceSecond: 0.5,
        },
      },
    ]);
    const g = gatherInputs([storm, idle], "/nonexistent");
    assert.deepEqual(g.measured.rssKbPerDevice, { value: 50, source: "idle-devices (this run), 5,000 devices" });
    assert.equal(g.measured.baselineRssMb.value, 100);
    assert.deepEqual(g.measured.cpuMsPerCallLifecycle, { value: 0.8, source: "call-storm (this run)" });
    assert.equal(g.storm?.startToRingingP99, 9);
    assert.deepEqual(g.measured.cpuUsPerRelayedMessage, {
      value: standIns.cpuUsPerRelayedMessage,
      source: "assumed (not measured)",
    });
  });

  it("takes the quality report's CPU, sample writes and bytes from quality-reports (rollup on), over the steady mix", () => {
    const steady = result("steady-calls", [
      {
        figures: { calls: 200, serverCpuUsPerCommand: 224 },
        result: { hop: { p50: 1, p99: 2 } },
        window: { serverWaitPct: 1, otherCpuPct: 1 },
      },
    ]);
    const phase = (windowMs: number, cpu: number, writes: number) => ({
      kind: "quality",
      windowMs,
      serverCpuUsPerCommand: cpu,
      sampleWritesPerReport: writes,
    });
    const quality = result("quality-reports", {
      figures: { before: phase(0, 160, 1), after: phase(2400, 90, 0.085), windowBytesPerSample: 82 },
    });
    const g = gatherInputs([steady, quality], "/nonexistent");
    assert.deepEqual(g.measured.cpuUsPerQualityReport, { value: 90, source: "quality-reports (this run), rollup on" });
    assert.equal(g.measured.sampleWritesPerReport.value, 0.085);
    assert.equal(g.measured.sampleBytesPerReport.value, 82);
    const withoutQuality = gatherInputs([steady], "/nonexistent");
    assert.equal(withoutQuality.measured.cpuUsPerQualityReport.value, 224, "the steady mix when not measured");
    assert.equal(withoutQuality.measured.sampleWritesPerReport.source, "assumed (not measured)");
  });

  it("takes the call directory's etcd figures from the compact layout's row", () => {
    const directory = result("call-directory", {
      etcd: [
        { layout: "legacy", dbBytesPerCall: 1226, revisionsPerLifecycle: 5 },
        { layout: "compact", dbBytesPerCall: 540, revisionsPerLifecycle: 5 },
      ],
    });
    const g = gatherInputs([directory], "/nonexistent");
    assert.deepEqual(g.measured.etcdDirectoryBytesPerCall, {
      value: 540,
      source: "call-directory (this run), compact layout",
    });
    assert.equal(g.measured.etcdDirectoryRevisionsPerCall.value, 5);
  });

  it("falls back to the newest results file that has the scenario, skipping failed ones", () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-inputs-"));
    try {
      const file = (name: string, results: unknown[]) => writeFileSync(join(dir, name), JSON.stringify({ results }));
      file("2026-01-01T00-00-00.json", [{ scenario: "call-storm", data: storm.data }]);
      file("2026-01-02T00-00-00.json", [{ scenario: "call-storm", data: { failed: "boom" } }]);
      file("notes.json", [{ scenario: "call-storm", data: {} }]);
      assert.equal(latestFromFiles(dir, "call-storm")?.file, "2026-01-01T00-00-00.json");
      assert.equal(latestFromFiles(dir, "idle-devices"), undefined);
      const g = gatherInputs([], dir);
      assert.deepEqual(g.measured.cpuMsPerCallLifecycle, {
        value: 0.8,
        source: "call-storm (2026-01-01T00-00-00.json)",
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
