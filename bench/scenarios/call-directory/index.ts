/**
 * Harness scenario `call-directory` (docs/cluster.md "Call directory size"): bytes per active
 * call in etcd's file, writes per call and operation latency of the etcd call directory, the
 * layout before (JSON, long keys) and the compact one side by side on a private real etcd;
 * plus, when a Cassandra is named (CALLDROP_BENCH_CASSANDRA=host:port), what the Cassandra
 * alternative's lightweight transactions cost on it.
 */
import { execFileSync } from "node:child_process";
import { Etcd3 } from "etcd3";
import { ensureEtcdInstalled, launchEtcd } from "../../../scripts/services/etcd.ts";
import type { DirectoryLayoutName } from "../../../src/adapters/directory/etcd-call-directory.ts";
import { createProcReader } from "../../lib/proc-stats.ts";
import type { Scenario } from "../../lib/scenario.ts";
import { type LwtResult, measureCassandraLwt } from "./cassandra-lwt.ts";
import { type CallDirectoryResult, measureCallDirectory } from "./measure.ts";

const plan = (quick: boolean) => (quick ? { active: 2_000, lifecycles: 200 } : { active: 10_000, lifecycles: 1_000 });
const layouts: DirectoryLayoutName[] = ["legacy", "compact"];
const layoutSeconds = (quick: boolean) => (quick ? 15 : 75);

const scenario: Scenario = {
  name: "call-directory",
  description: "etcd call directory: bytes per active call, writes per call, latency — layout before vs compact",
  estimateSeconds: (quick) => layouts.length * layoutSeconds(quick) + (process.env.CALLDROP_BENCH_CASSANDRA ? 60 : 0),
  async run(ctx) {
    const o = plan(ctx.quick);
    const etcd = await launchEtcd(ensureEtcdInstalled((line) => ctx.progress.log(line)));
    const results: CallDirectoryResult[] = [];
    try {
      const pid = Number(execFileSync("pgrep", ["-f", etcd.dataDir]).toString().trim().split("\n")[0]);
      const read = createProcReader();
      const admin = new Etcd3({ hosts: `http://${etcd.endpoint}` });
      try {
        for (const layout of layouts) {
          const r = await ctx.progress.step(`${layout}: ${o.active} calls`, layoutSeconds(ctx.quick), () =>
            measureCallDirectory({ endpoint: etcd.endpoint, admin, layout, plan: o, etcdCpu: () => read(pid) }),
          );
          results.push(r);
          ctx.progress.log(`call-directory ${layout}: ${r.dbBytesPerCall.toFixed(0)} B/call in etcd's file`);
        }
      } finally {
        admin.close();
      }
    } finally {
      await etcd.destroy();
    }
    const cassandra = process.env.CALLDROP_BENCH_CASSANDRA;
    const lwt: LwtResult | undefined = cassandra
      ? await ctx.progress.step("Cassandra LWT directory", 60, () =>
          measureCassandraLwt(cassandra, ctx.quick ? 50 : 200),
        )
      : undefined;
    const ms = (x: number) => Number(x.toFixed(2));
    const tables = [
      {
        title: `etcd call directory: ${o.active.toLocaleString("en-US")} connected calls held, ${o.lifecycles} full calls (claim → connecting → connected → ended → release)`,
        columns: [
          "layout",
          "etcd file B/call (compacted, defragmented)",
          "key+value B/call",
          "keys/call",
          "revisions/call",
          "key writes/call",
          "etcd CPU µs/call",
          "claim p50/p99 ms",
          "update p50/p99 ms",
          "release p50/p99 ms",
          "findByUser p50/p99 ms",
        ],
        rows: results.map((r) => [
          r.layout,
          Math.round(r.dbBytesPerCall),
          Math.round(r.rawBytesPerCall),
          r.keysPerCall,
          Number(r.revisionsPerLifecycle.toFixed(2)),
          Number(r.keyWritesPerLifecycle.toFixed(2)),
          Math.round(r.etcdCpuUsPerLifecycle),
          `${ms(r.claimMs.p50)} / ${ms(r.claimMs.p99)}`,
          `${ms(r.updateMs.p50)} / ${ms(r.updateMs.p99)}`,
          `${ms(r.releaseMs.p50)} / ${ms(r.releaseMs.p99)}`,
          `${ms(r.findByUserMs.p50)} / ${ms(r.findByUserMs.p99)}`,
        ]),
      },
      ...(lwt
        ? [
            {
              title: `Cassandra LWT directory (the port's recipe), ${lwt.lifecycles} full calls on ${cassandra}`,
              columns: [
                "LWT/call",
                "claim p50/p99 ms",
                "update p50/p99 ms",
                "release p50/p99 ms",
                "plain write p50 ms",
              ],
              rows: [
                [
                  lwt.lwtPerLifecycle,
                  `${ms(lwt.claimMs.p50)} / ${ms(lwt.claimMs.p99)}`,
                  `${ms(lwt.updateMs.p50)} / ${ms(lwt.updateMs.p99)}`,
                  `${ms(lwt.releaseMs.p50)} / ${ms(lwt.releaseMs.p99)}`,
                  ms(lwt.plainWriteMs.p50),
                ],
              ],
            },
          ]
        : []),
    ];
    return {
      scenario: scenario.name,
      description: scenario.description,
      tables,
      charts: [
        {
          title: "Bytes per active call in etcd's file",
          unit: "B",
          bars: results.map((r) => ({ category: "per call", series: r.layout, value: Math.round(r.dbBytesPerCall) })),
        },
      ],
      notes: [
        "etcd file B/call: dbSize after compacting all history and defragmenting, minus the empty file, over the calls held; it includes each key's bbolt element, revision key and KeyValue record (~65 B per key here).",
        "legacy: the layout before (JSON value, key names with full ids); compact: etcd-directory-layout.ts. The legacy row runs today's release (one transaction); the code before needed 3 for it (7 revisions per call).",
        "Each update is a read and a compare-and-put; a claim reads both users' pointers in both layouts.",
        ...(lwt
          ? []
          : [
              "Cassandra LWT: set CALLDROP_BENCH_CASSANDRA=host:port to measure it (a scratch keyspace, dropped after).",
            ]),
      ],
      data: { etcd: results, cassandraLwt: lwt },
    };
  },
};

export default scenario;
