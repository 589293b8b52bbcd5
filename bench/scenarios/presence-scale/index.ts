/**
 * Harness scenario `presence-scale` (docs/cluster.md "Presence at scale"): what one presence
 * change costs etcd and the cluster as the node count K grows, the design before (every node
 * watches every device) and the per-user watches side by side, on one real etcd with
 * simulated nodes in this process.
 */
import { execFileSync } from "node:child_process";
import { Etcd3 } from "etcd3";
import { ensureEtcdInstalled, launchEtcd } from "../../../scripts/services/etcd.ts";
import { createProcReader } from "../../lib/proc-stats.ts";
import type { Scenario } from "../../lib/scenario.ts";
import { type Design, measurePresenceScale, type PresenceScaleResult, seedDevices } from "./measure.ts";

const plan = (quick: boolean) =>
  quick
    ? { devices: 10_000, changes: 2_000, inCallFraction: 0.2, nodeCounts: [3, 12] }
    : { devices: 50_000, changes: 5_000, inCallFraction: 0.2, nodeCounts: [3, 12, 48] };
const designs: Design[] = ["prefix watch", "per-user watch"];
const runSeconds = (quick: boolean) => (quick ? 8 : 25);

const scenario: Scenario = {
  name: "presence-scale",
  description: "etcd load per presence change against the node count: prefix watch (before) vs per-user watches",
  estimateSeconds: (quick) => 10 + plan(quick).nodeCounts.length * designs.length * runSeconds(quick),
  async run(ctx) {
    const o = plan(ctx.quick);
    const etcd = await launchEtcd(ensureEtcdInstalled((line) => ctx.progress.log(line)));
    const results: PresenceScaleResult[] = [];
    try {
      const pid = Number(execFileSync("pgrep", ["-f", etcd.dataDir]).toString().trim().split("\n")[0]);
      const read = createProcReader();
      const prefix = "/calldrop-bench/";
      await ctx.progress.step(`seed ${o.devices} devices`, 10, async () => {
        const admin = new Etcd3({ hosts: `http://${etcd.endpoint}` });
        try {
          await seedDevices(admin, prefix, o.devices);
        } finally {
          admin.close();
        }
      });
      for (const nodes of o.nodeCounts) {
        for (const design of designs) {
          const result = await ctx.progress.step(`${design}, K=${nodes}`, runSeconds(ctx.quick), () =>
            measurePresenceScale({ endpoint: etcd.endpoint, prefix, design, nodes, plan: o, etcdCpu: () => read(pid) }),
          );
          results.push(result);
          ctx.progress.log(
            `presence-scale ${design} K=${nodes}: ${result.eventsPerChange.toFixed(2)} events/change, ` +
              `etcd ${result.etcdCpuUsPerChange.toFixed(0)} µs/change`,
          );
        }
      }
    } finally {
      await etcd.destroy();
    }
    const ms = (x: number | undefined) => (x === undefined ? "—" : Number(x.toFixed(2)));
    return {
      scenario: scenario.name,
      description: scenario.description,
      tables: [
        {
          title: `Presence change cost: ${o.devices} devices, ${o.changes} changes, ${o.inCallFraction * 100}% of users in calls (each looked up by 2 nodes)`,
          columns: [
            "design",
            "nodes K",
            "events sent per change",
            "etcd CPU µs/change",
            "miss lookup p50 ms",
            "miss lookup p99 ms",
            "hit lookup p50 ms",
            "stale right after",
            "all fresh after ms",
            "watches",
          ],
          rows: results.map((r) => [
            r.design,
            r.nodes,
            Number(r.eventsPerChange.toFixed(2)),
            Math.round(r.etcdCpuUsPerChange),
            ms(r.missLookupMs?.p50),
            ms(r.missLookupMs?.p99),
            ms(r.hitLookupMs?.p50),
            r.staleRate === undefined ? "—" : `${(r.staleRate * 100).toFixed(1)}%`,
            ms(r.staleRecoveryMs),
            r.watches,
          ]),
        },
      ],
      charts: [
        {
          title: "etcd CPU per presence change against the node count",
          unit: "µs",
          bars: results.map((r) => ({
            category: `K=${r.nodes}`,
            series: r.design,
            value: Math.round(r.etcdCpuUsPerChange),
          })),
        },
        {
          title: "Watch events etcd sends per presence change",
          unit: "events",
          bars: results.map((r) => ({ category: `K=${r.nodes}`, series: r.design, value: r.eventsPerChange })),
        },
      ],
      notes: [
        "prefix watch: each node watches the whole device keyspace (the design before); every change goes to every node.",
        "per-user watch: each node reads a user on its first lookup and then watches only that user while cached.",
        "etcd CPU includes serving the writes themselves (the same in both designs) and sending the events.",
        "stale right after: cached users whose entry differed from etcd when the last write returned; all fresh after: until none did.",
      ],
      data: results,
    };
  },
};

export default scenario;
