/**
 * Harness scenario `cluster-forwarding`: signaling between two devices on one node vs
 * across two nodes of a cluster (etcd + relay), see bench/cluster/README.md. The servers
 * and etcd are started (and always stopped) by bench/cluster/measure.ts.
 */
import { measureCluster, pct } from "../../cluster/measure.ts";
import type { Scenario } from "../../lib/scenario.ts";

const plan = (quick: boolean) =>
  quick
    ? { pairs: 20, seconds: 4, roundTrips: 300, window: 4 }
    : { pairs: 40, seconds: 8, roundTrips: 1000, window: 8 };

const scenario: Scenario = {
  name: "cluster-forwarding",
  description: "Cross-node vs same-node signaling: per-hop latency, relayed msgs/s and server CPU per message",
  estimateSeconds: (quick) => 2 * (plan(quick).seconds + 6) + 10,
  async run(ctx) {
    const o = plan(ctx.quick);
    const { results, warnings } = await ctx.progress.step("2-node cluster", 2 * (o.seconds + 6) + 10, () =>
      measureCluster({ ...o, placements: ["same node", "cross node"], log: (line) => ctx.progress.log(line) }),
    );
    const ms = (x: number) => Number(x.toFixed(2));
    return {
      scenario: scenario.name,
      description: scenario.description,
      tables: [
        {
          title: `Signaling relay: ${o.pairs} calls × 2 directions, window ${o.window}, ${o.seconds} s`,
          columns: [
            "placement",
            "caller→callee p50 ms",
            "caller→callee p99 ms",
            "callee→caller p50 ms",
            "callee→caller p99 ms",
            "relayed msgs/s",
            "refused/s",
            "server CPU µs/msg",
          ],
          rows: results.map((r) => [
            r.placement,
            ms(pct(r.there, 0.5)),
            ms(pct(r.there, 0.99)),
            ms(pct(r.back, 0.5)),
            ms(pct(r.back, 0.99)),
            Math.round(r.rate),
            Math.round(r.refusedPerSecond),
            Math.round(r.cpuUsPerMessage),
          ]),
        },
      ],
      charts: [
        {
          title: "Relayed signaling messages per second",
          unit: "msgs/s",
          bars: results.map((r) => ({ category: "throughput", series: r.placement, value: Math.round(r.rate) })),
        },
      ],
      notes: [
        "caller→callee crosses as a `deliver` frame; callee→caller as a forwarded command and its reply.",
        "refused/s: commands answered `unavailable` by backpressure (relay link more than 5 000 frames behind).",
        ...[...warnings].map(([msg, count]) => `server warning ×${count}: ${msg}`),
      ],
      data: results.map(({ there, back, ...r }) => ({
        ...r,
        there: { p50: pct(there, 0.5), p99: pct(there, 0.99) },
        back: { p50: pct(back, 0.5), p99: pct(back, 0.99) },
      })),
    };
  },
};

export default scenario;
