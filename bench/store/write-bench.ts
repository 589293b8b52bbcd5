/**
 * Call-store write throughput on one Cassandra node (docs/spec.md §12 "daily calls", issue 5):
 * call records (start + answer + finalize) and RTCP samples, each with and without batching.
 *
 *   node bench/store/write-bench.ts [--seconds 15] [--concurrency 64] [--commitlog periodic|group]
 *
 * Starts its own node (full JIT, 1 GiB heap, production's periodic commit log by default), runs
 * each phase for --seconds with --concurrency operations in flight, and prints a Markdown table.
 * The client runs on the same machine, so node and client share its cores (CPU % reported).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startNode } from "../../scripts/cassandra/node.ts";
import { callOf, completed, sampleAt } from "../../src/adapters/store/call-store.contract.ts";
import { createCassandraCallStore } from "../../src/adapters/store/cassandra/cassandra-call-store.ts";
import { createTestKeyspace } from "../../src/adapters/store/cassandra/test-support.ts";
import type { CallStore } from "../../src/app/ports/call-store.ts";
import { perSecond, summarize } from "../lib/stats.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "15" },
    concurrency: { type: "string", default: "64" },
    commitlog: { type: "string", default: "periodic" },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const commitlogSync = values.commitlog === "group" ? "group" : "periodic";
const log = (line: string) => process.stderr.write(`${line}\n`);

/** CPU seconds used so far by a process (utime + stime from /proc). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

type Timed = <T>(write: Promise<T>) => Promise<T>;
const untimed: Timed = (write) => write;

interface Phase {
  readonly name: string;
  readonly batched: boolean;
  /** Items written per operation (records: 1 call; samples: samples per report). */
  readonly itemsPerOp: number;
  /** One operation; `timed` wraps each store call whose latency counts. */
  readonly op: (store: CallStore, n: number, timed: Timed) => Promise<void>;
}

const t0 = Date.UTC(2026, 5, 1);
const samplesPerReport = 10;
const recordOp = async (store: CallStore, n: number, timed: Timed) => {
  const call = callOf(`b${n}`, `u${n % 50_000}`, `u${(n * 7 + 1) % 50_000}`, t0 + n);
  await timed(store.recordStart(call));
  await timed(store.recordAnswer(call.callId, `${call.calleeUserId}-phone`, call.startedAtMs + 3000));
  await timed(store.finalize(call, completed(call)));
};
const sampleOp = async (store: CallStore, n: number, timed: Timed) => {
  const at = t0 + n * 1000;
  const samples = Array.from({ length: samplesPerReport }, (_, i) => ({
    ...sampleAt(at + i * 100),
    userId: `u${(n + i) % 40_000}`,
  }));
  await timed(store.addSampleWindow(`s${n % 20_000}`, { key: `${at}-bench-${n}`, samples }));
};
const phases: Phase[] = [
  { name: "call records (start+answer+finalize)", batched: false, itemsPerOp: 1, op: recordOp },
  { name: "call records (start+answer+finalize)", batched: true, itemsPerOp: 1, op: recordOp },
  {
    name: `RTCP samples (a window of ${samplesPerReport})`,
    batched: false,
    itemsPerOp: samplesPerReport,
    op: sampleOp,
  },
  { name: `RTCP samples (a window of ${samplesPerReport})`, batched: true, itemsPerOp: samplesPerReport, op: sampleOp },
];

const node = await startNode({ log, quickStart: false, heapMb: 1024, commitlogSync });
const rows: string[] = [];
try {
  for (const phase of phases) {
    const keyspace = await createTestKeyspace(node.contactPoint, { batchWrites: phase.batched });
    const store = createCassandraCallStore(keyspace.config);
    // Warm-up: prepares statements and lets the JIT settle.
    let n = phase.batched ? 10_000_000 : 0;
    const warmUntil = Date.now() + 3000;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (Date.now() < warmUntil) await phase.op(store, n++, untimed);
      }),
    );
    const latencies: number[] = [];
    const timed: Timed = async (write) => {
      const s = performance.now();
      const result = await write;
      latencies.push(performance.now() - s);
      return result;
    };
    let ops = 0;
    const pid = node.pid() ?? 0;
    const cpu0 = { node: cpuSeconds(pid), client: process.cpuUsage() };
    const start = performance.now();
    const until = start + seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < until) {
          await phase.op(store, n++, timed);
          ops++;
        }
      }),
    );
    const elapsed = performance.now() - start;
    const nodeCpu = ((cpuSeconds(pid) - cpu0.node) * 100_000) / elapsed;
    const c = process.cpuUsage(cpu0.client);
    const clientCpu = (c.user + c.system) / 10 / elapsed;
    const l = summarize(latencies);
    const row = `| ${phase.name} | ${phase.batched ? "yes" : "no"} | ${perSecond(ops * phase.itemsPerOp, elapsed).toFixed(0)} | ${l.p50.toFixed(1)} | ${l.p99.toFixed(1)} | ${nodeCpu.toFixed(0)} % | ${clientCpu.toFixed(0)} % |`;
    log(row);
    rows.push(row);
    await store.close();
    await keyspace.drop();
  }
} finally {
  await node.stop();
}
process.stdout.write(
  [
    `commit log: ${commitlogSync}, ${concurrency} in flight, ${seconds} s per phase`,
    "",
    "| workload | batched | items/s | p50 ms per store call | p99 ms per store call | Cassandra CPU | client CPU |",
    "|---|---|---|---|---|---|---|",
    ...rows,
    "",
  ].join("\n"),
);
