import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Phase } from "../relay-transport/plan.ts";
import type { CompareFigures } from "./measure.ts";
import { type CompareRun, compareFigures, compareTables, relayedPerSecond, throughputVerdict } from "./report.ts";

const figures = (roundTrips: number, p99: number, serverCpuPct: number, otherCpuPct = 0): CompareFigures => ({
  load: {
    roundTrips,
    measuredMs: 1000,
    latency: { count: roundTrips, mean: 1, p50: p99 / 2, p95: p99, p99, max: p99 },
    unanswered: 0,
    errors: 0,
    errorSamples: [],
    openMs: 1,
  },
  serverCpuPct,
  clientCpuPct: 50,
  otherCpuPct,
  serverWaitPct: 1,
  serverRssBytes: 1024 * 1024,
  serverPeakRssBytes: 1024 * 1024,
});
const phases: Phase[] = [
  { name: "sat", load: { mode: "saturated", pairs: 1, inFlight: 1, warmupMs: 1, measureMs: 1 } },
  { name: "paced", load: { mode: "paced", pairs: 1, roundTripsPerSecond: 1, warmupMs: 1, measureMs: 1 } },
];
const run = (server: CompareRun["server"], sat: CompareFigures[], paced: CompareFigures): CompareRun => ({
  server,
  phases: [
    ...sat.map((figures, i) => ({ phase: "sat", round: i + 1, figures })),
    { phase: "paced", round: 1, figures: paced },
  ],
});

describe("relay-compare report", () => {
  const runs = [
    // Round 2 is less contended, so it is the one reported: 4,000 msg/s.
    run("calldrop grpc-js", [figures(1000, 50, 100, 90), figures(2000, 40, 100, 10)], figures(500, 8, 20)),
    run("calldrop connect-node", [figures(1000, 80, 100)], figures(500, 30, 30)),
    run("bare grpc-js", [figures(2400, 20, 60)], figures(500, 4, 10)),
    run("peerjs", [figures(5000, 10, 50)], figures(500, 2, 5)),
  ];

  it("counts two relayed messages per round trip", () => {
    assert.equal(relayedPerSecond(figures(1000, 1, 1)), 2000);
  });

  it("keeps the least contended round, with the spread of all rounds, and CPU per message", () => {
    const f = compareFigures(runs, phases);
    const main = f.cells.sat?.["calldrop grpc-js"];
    assert.equal(main?.msgPerSecond, 4000);
    assert.deepEqual(main?.allRounds, [2000, 4000]);
    assert.equal(main?.serverCpuUsPerMsg, 250); // 1 core-s / 4,000 msg
  });

  it("meets a throughput bar only when msg/s and per-core capacity agree", () => {
    assert.deepEqual(throughputVerdict(1.2, 1.1, 1), { met: true, verdict: "yes" });
    assert.deepEqual(throughputVerdict(0.5, 0.4, 0.8), { met: false, verdict: "NO" });
    assert.equal(throughputVerdict(0.9, 0.5, 0.8).verdict, "NO per core (msg/s only: the anchor got less CPU)");
    assert.equal(throughputVerdict(0.5, 0.9, 0.8).verdict, "NO on msg/s (per core only)");
    assert.equal(throughputVerdict(Number.NaN, 1, 1).met, undefined);
  });

  it("gives ratios full / anchor and judges the §12 bars on the default engine", () => {
    const f = compareFigures(runs, phases);
    const vsPeer = f.ratios.find((r) => r.full === "calldrop grpc-js" && r.anchor === "peerjs");
    assert.equal(vsPeer?.saturatedMsgPerSecond, 0.4); // 4,000 / 10,000
    assert.equal(vsPeer?.pacedP99, 4); // 8 ms / 2 ms
    const vsBare = f.ratios.find((r) => r.full === "calldrop grpc-js" && r.anchor === "bare grpc-js");
    assert.ok(Math.abs((vsBare?.saturatedMsgPerSecond ?? 0) - 4000 / 4800) < 1e-9);
    // < PeerJS; ≥ 0.8x bare on msg/s (0.83) but not per core (25 vs 250 µs/msg); paced p99 8 ms < 10.
    assert.deepEqual(
      f.bars.map((b) => b.verdict),
      ["NO", "NO per core (msg/s only: the anchor got less CPU)", "yes"],
    );
  });

  it("renders rows of equal width and one ratio row per full server and anchor", () => {
    const [cells, ratios, bars] = compareTables(runs, phases);
    for (const row of cells?.rows ?? []) assert.equal(row.length, cells?.columns.length);
    assert.equal(ratios?.rows.length, 4);
    assert.deepEqual(
      bars?.rows.map((r) => r[2]),
      ["NO", "NO per core (msg/s only: the anchor got less CPU)", "yes"],
    );
  });
});
