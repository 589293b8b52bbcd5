import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { WindowFigures } from "../full-server/window.ts";
import { type IdleRun, idleFigures, idleTables } from "./report.ts";

const MiB = 1024 * 1024;
const window = (serverCpuPct: number, serverCpuMs: number): WindowFigures => ({
  wallMs: 1000,
  serverCpuPct,
  serverCpuMs,
  clientCpuPct: 0,
  otherCpuPct: 0,
  serverWaitPct: 0,
  serverRssBytes: 0,
  serverPeakRssBytes: 0,
});
const run: IdleRun = {
  plan: { engine: "grpc-js", devices: 10_000, loadgens: 2, idleMs: 1000 },
  devices: 10_000,
  openMs: 5000,
  before: { rssBytes: 100 * MiB, hwmBytes: 0, heapUsedBytes: 10 * MiB },
  after: { rssBytes: 100 * MiB + 10_000 * 40 * 1024, hwmBytes: 0, heapUsedBytes: 10 * MiB + 10_000 * 10 * 1024 },
  open: window(100, 12_000),
  idle: window(2, 20),
  errors: 0,
  errorSamples: [],
};

describe("idle-devices report", () => {
  it("derives memory and CPU per device and projects the 4 GiB pod", () => {
    const f = idleFigures(run);
    assert.equal(f.rssKbPerDevice, 40);
    assert.equal(f.heapKbPerDevice, 10);
    assert.equal(f.serverCpuMsPerConnect, 1.2);
    assert.equal(f.connectsPerSecond, 2000);
    assert.equal(f.idleCpuUsPerDeviceSecond, 2); // 2% of a core over 10k devices = 2 µs/s each
    assert.equal(f.projectedRssAtBarBytes, 100 * MiB + 100_000 * 40 * 1024);
    assert.equal(f.devicesIn4GiB, Math.floor(((4096 - 100) * 1024) / 40)); // 102,297
  });

  it("says whether the 100k devices bar is met", () => {
    const [, projection] = idleTables([
      run,
      { ...run, after: { ...run.after, rssBytes: 100 * MiB + 10_000 * 60 * 1024 } },
    ]);
    assert.deepEqual(
      projection?.rows.map((r) => r[4]),
      ["yes (extrapolated)", "NO"],
    );
  });
});
