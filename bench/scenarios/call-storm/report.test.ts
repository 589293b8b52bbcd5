import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { summarize } from "../../lib/stats.ts";
import { type StormRun, stormFigures, stormTables } from "./report.ts";

const latency = summarize([1, 2, 3]);
const run: StormRun = {
  spec: { pairs: 10, warmupMs: 1, measureMs: 2000, maxCalls: 100 },
  opened: { devices: 20, openMs: 1 },
  window: {
    wallMs: 2000,
    serverCpuPct: 50,
    serverCpuMs: 1000,
    clientCpuPct: 40,
    otherCpuPct: 0,
    serverWaitPct: 0,
    serverRssBytes: 0,
    serverPeakRssBytes: 0,
  },
  result: {
    started: 1000,
    completed: 990,
    completedInWindow: 1000,
    measuredMs: 2000,
    startToRinging: latency,
    startToIncoming: latency,
    startToAccepted: latency,
    commandsSent: 3000,
    eventsReceived: 9000,
    otherOutcomes: { "5": 2 },
    errors: 1,
    errorSamples: [],
    unfinished: 3,
    openMs: 1,
  },
};

describe("call-storm report", () => {
  it("derives the sustained rate, CPU per call and counts other outcomes as errors", () => {
    assert.deepEqual(stormFigures(run), {
      callsPerSecond: 500,
      serverCpuMsPerCall: 1,
      serverCpuPct: 50,
      commandsPerSecond: 1500,
      eventsPerSecond: 4500,
      errors: 6,
    });
  });

  it("renders rows as wide as their columns", () => {
    for (const t of stormTables(run)) for (const r of t.rows) assert.equal(r.length, t.columns.length);
  });
});
