import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { LoadFigures } from "./measure.ts";
import { buildCharts, buildTables, type ServerRun } from "./report.ts";

const figures = (roundTrips: number, p99: number, serverCpuPct: number, otherCpuPct = 0): LoadFigures => ({
  load: {
    roundTrips,
    measuredMs: 1000,
    latency: { count: roundTrips, mean: 1, p50: 1, p95: 2, p99, max: p99 },
    unanswered: 0,
    errors: 0,
    errorSamples: [],
    openMs: 5,
  },
  serverCpuPct,
  clientCpuPct: 50,
  otherCpuPct,
  serverRssBytes: 100 * 1024 * 1024,
  serverPeakRssBytes: 100 * 1024 * 1024,
});
const idle = (rssPerStream: number) => ({
  streams: 10,
  openMs: 1,
  rssDeltaBytes: rssPerStream * 10,
  heapDeltaBytes: 0,
  errors: 0,
  errorSamples: [],
});
const runs: ServerRun[] = [
  {
    server: "connect-node",
    idle: idle(80 * 1024),
    phases: [
      { phase: "sat", round: 1, figures: figures(1000, 40, 100) },
      { phase: "sat", round: 2, figures: figures(100, 900, 100, 120) }, // contended: not reported
    ],
  },
  {
    server: "grpc-js",
    idle: idle(20 * 1024),
    phases: [{ phase: "sat", round: 1, figures: figures(3000, 10, 75, 60) }],
  },
  { server: "peerjs", phases: [] },
];

describe("relay-transport report", () => {
  it("reports the least contended round, flags contention, derives rates and CPU per message", () => {
    const [load] = buildTables(runs);
    for (const row of load?.rows ?? []) assert.equal(row.length, load?.columns.length);
    assert.equal(load?.columns[9], "server CPU µs/msg");
    assert.deepEqual(load?.rows[0]?.slice(0, 4), ["sat", "connect-node", 2000, "200–2,000"]);
    assert.deepEqual(load?.rows[1]?.slice(0, 9), ["sat", "grpc-js ⚠", 6000, "6,000", 1, 2, 10, 10, 75]);
    assert.equal(load?.rows[1]?.[9], 125); // 0.75 core-s / 6000 msg = 125 µs
    assert.equal(load?.rows[0]?.[9], 500);
  });

  it("gives ratios against connect-node, inverted where lower is better, '–' when missing", () => {
    const ratios = buildTables(runs)[2]?.rows;
    assert.deepEqual(ratios, [
      ["sat: relayed msg/s", "3.00x", "–"],
      ["sat: p99 latency (lower is better)", "4.00x", "–"],
      ["sat: server CPU per message (lower is better)", "4.00x", "–"],
      ["idle RSS per stream (lower is better)", "4.00x", "–"],
    ]);
  });

  it("charts one bar per server and phase", () => {
    const [rate, , , rss] = buildCharts(runs);
    assert.deepEqual(
      rate?.bars.map((b) => [b.series, b.value]),
      [
        ["connect-node", 2000],
        ["grpc-js", 6000],
      ],
    );
    assert.deepEqual(
      rss?.bars.map((b) => [b.series, b.value]),
      [
        ["connect-node", 80],
        ["grpc-js", 20],
      ],
    );
  });
});
