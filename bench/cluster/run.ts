/**
 * `node bench/cluster/run.ts [--pairs 40] [--seconds 8] [--round-trips 1000] [--window 8]`:
 * cross-node vs same-node signaling (see measure.ts and README.md); prints a markdown table.
 * BENCH_DEBUG=1 prints relay metrics; BENCH_PLACEMENTS="cross node" runs one placement;
 * BENCH_SERVER_NODE_OPTIONS=--cpu-prof profiles the servers.
 */
import { parseArgs } from "node:util";
import { measureCluster, type Placement, pct } from "./measure.ts";

const { values: args } = parseArgs({
  options: {
    pairs: { type: "string", default: "40" },
    seconds: { type: "string", default: "8" },
    "round-trips": { type: "string", default: "1000" },
    window: { type: "string", default: "8" },
  },
});
const o = {
  pairs: Number(args.pairs),
  seconds: Number(args.seconds),
  roundTrips: Number(args["round-trips"]),
  window: Number(args.window),
  placements: (process.env.BENCH_PLACEMENTS?.split(",") ?? ["same node", "cross node"]) as Placement[],
  log: (line: string) => process.stderr.write(`[bench] ${line}\n`),
  debug: Boolean(process.env.BENCH_DEBUG),
  serverNodeOptions: process.env.BENCH_SERVER_NODE_OPTIONS,
};
const { results, warnings } = await measureCluster(o);
for (const [msg, count] of warnings) o.log(`server warning ×${count}: ${msg}`);
const ms = (x: number) => x.toFixed(2);
const lat = (l: number[]) => `${ms(pct(l, 0.5))} / ${ms(pct(l, 0.99))}`;
process.stdout.write(
  [
    `Signaling relay, ${o.pairs} calls × 2 directions, window ${o.window}, ${o.seconds} s; latency over ${o.roundTrips} round trips (ms).`,
    "",
    "| placement | caller→callee p50 / p99 | callee→caller p50 / p99 | relayed msgs/s | refused/s | server CPU µs/msg |",
    "| --- | --- | --- | --- | --- | --- |",
    ...results.map(
      (r) =>
        `| ${r.placement} | ${lat(r.there)} | ${lat(r.back)} | ${Math.round(r.rate)} | ${Math.round(r.refusedPerSecond)} | ${Math.round(r.cpuUsPerMessage)} |`,
    ),
    "",
  ].join("\n"),
);
