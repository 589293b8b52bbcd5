/**
 * Cross-node vs same-node signaling relay (PRODUCT.md §10, §12). Starts etcd and a
 * 2-node cluster (two server processes, one sqlite file), then relays ICE candidates
 * between the two devices of answered calls placed either on one node or across the
 * two (caller on node 0, which runs the call; callee on node 1):
 * - latency: one call, sequential round trips; each leg is one client→server→client hop
 *   (caller→callee is a `deliver` to the other node; callee→caller a forwarded command);
 * - throughput: many calls, both sides sending with a window of unanswered commands.
 * Usage: node bench/cluster/run.ts [--pairs 40] [--seconds 8] [--round-trips 1000] [--window 8]
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ensureEtcdInstalled, launchEtcd } from "../../scripts/services/etcd.ts";
import { type ServerProcess, startServer } from "../../test/support/server-process.ts";
import { type BenchDevice, candidate, connectCall, openDevice, tagOf } from "./client.ts";

const { values: args } = parseArgs({
  options: {
    pairs: { type: "string", default: "40" },
    seconds: { type: "string", default: "8" },
    "round-trips": { type: "string", default: "1000" },
    window: { type: "string", default: "8" },
  },
});
const pairs = Number(args.pairs);
const seconds = Number(args.seconds);
const roundTrips = Number(args["round-trips"]);
const window = Number(args.window);
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

type Placement = "same node" | "cross node";
let users = 0;

async function pair(nodes: ServerProcess[], placement: Placement) {
  const [a, b] = [nodes[0] as ServerProcess, nodes[placement === "same node" ? 0 : 1] as ServerProcess];
  const ua = `caller-${++users}`;
  const ub = `callee-${users}`;
  const address = (s: ServerProcess) => s.baseUrl.replace("http://", "");
  const caller = await openDevice(address(a), await a.token(ua), ua, "phone");
  const callee = await openDevice(address(b), await b.token(ub), ub, "phone");
  return { caller, callee, callId: await connectCall(caller, callee) };
}

/** CPU seconds (user + system) a process used so far, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 10 ms
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
const ms = (x: number) => x.toFixed(2);

async function latency(nodes: ServerProcess[], placement: Placement) {
  const { caller, callee, callId } = await pair(nodes, placement);
  const legs: [number[], number[]] = [[], []];
  for (let i = -100; i < roundTrips; i++) {
    const t0 = performance.now();
    const there = callee.next((e) => tagOf(e) === `x${i}`);
    caller.send(candidate(callId, `x${i}`));
    await there;
    const t1 = performance.now();
    const back = caller.next((e) => tagOf(e) === `y${i}`);
    callee.send(candidate(callId, `y${i}`));
    await back;
    if (i >= 0) {
      legs[0].push(t1 - t0);
      legs[1].push(performance.now() - t1);
    }
  }
  caller.close();
  callee.close();
  const sorted = (l: number[]) => l.sort((x, y) => x - y);
  return [sorted(legs[0]), sorted(legs[1])] as const;
}

async function throughput(nodes: ServerProcess[], placement: Placement) {
  const calls = [];
  for (let i = 0; i < pairs; i++) calls.push(await pair(nodes, placement));
  let delivered = 0;
  let refused = 0;
  let counting = false;
  let running = true;
  const pump = (from: BenchDevice, to: BenchDevice, callId: string) => {
    let inFlight = 0;
    let n = 0;
    const more = () => {
      while (running && inFlight < window) {
        inFlight++;
        from.send(candidate(callId, `t${n++}`));
      }
    };
    from.onEvent((e) => {
      if (e.kind.case === "commandResult" || e.kind.case === "error") {
        if (counting && e.kind.case === "error") refused++;
        inFlight--;
        more();
      }
    });
    to.onEvent((e) => {
      if (counting && e.kind.case === "iceCandidate") delivered++;
    });
    more();
  };
  for (const c of calls) {
    pump(c.caller, c.callee, c.callId);
    pump(c.callee, c.caller, c.callId);
  }
  await new Promise((r) => setTimeout(r, 1_000)); // warm-up
  counting = true;
  const t0 = performance.now();
  const cpu0 = nodes.map((n) => cpuSeconds(n.pid));
  await new Promise((r) => setTimeout(r, seconds * 1_000));
  const cpu = nodes.reduce((sum, n, i) => sum + cpuSeconds(n.pid) - (cpu0[i] ?? 0), 0);
  const count = delivered;
  if (process.env.BENCH_DEBUG) {
    for (const n of nodes) {
      const text = await (await fetch(`${n.baseUrl}/metrics`)).text();
      log(
        text
          .split("\n")
          .filter((l) => /^calldrop_(relay_(unacked|frames|queue|ack_seconds_(sum|count))|forward)/.test(l))
          .join("\n"),
      );
    }
  }
  const rate = count / ((performance.now() - t0) / 1_000);
  running = false;
  await new Promise((r) => setTimeout(r, 300));
  for (const c of calls) {
    c.caller.close();
    c.callee.close();
  }
  return { rate, refusedPerSecond: refused / seconds, cpuUsPerMessage: (cpu / count) * 1e6 };
}

const etcd = await launchEtcd(ensureEtcdInstalled(log));
const dir = mkdtempSync(join(tmpdir(), "calldrop-bench-"));
const nodes: ServerProcess[] = [];
try {
  const env = {
    CALLDROP_CLUSTER__ETCD_ENDPOINTS: JSON.stringify([etcd.endpoint]),
    CALLDROP_CLUSTER__RELAY_SECRET: "bench-relay-secret-0123456789",
    CALLDROP_CLUSTER__INTERNAL_PORT: "0",
    CALLDROP_LIMITS__MESSAGES_PER_SECOND: "1000000",
    CALLDROP_LIMITS__MESSAGES_BURST: "1000000",
    CALLDROP_LIMITS__CALL_STARTS_BURST: "1000",
    CALLDROP_CALLS__MAX_CANDIDATES_PER_CALL: "1000000000",
    ...(process.env.BENCH_SERVER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_SERVER_NODE_OPTIONS } : {}),
  };
  for (let i = 0; i < 2; i++) nodes.push(await startServer(env, dir));
  const rows: string[] = [];
  const placements = (process.env.BENCH_PLACEMENTS?.split(",") ?? ["same node", "cross node"]) as Placement[];
  for (const placement of placements) {
    log(`${placement}: latency (${roundTrips} round trips)`);
    const [there, back] = await latency(nodes, placement);
    log(`${placement}: throughput (${pairs} calls, window ${window}, ${seconds} s)`);
    const { rate, refusedPerSecond, cpuUsPerMessage } = await throughput(nodes, placement);
    const lat = (l: number[]) => `${ms(pct(l, 0.5))} / ${ms(pct(l, 0.99))}`;
    rows.push(
      `| ${placement} | ${lat(there)} | ${lat(back)} | ${Math.round(rate)} | ${Math.round(refusedPerSecond)} | ${Math.round(cpuUsPerMessage)} |`,
    );
  }
  const warnings = new Map<string, number>();
  for (const line of nodes.flatMap((n) => n.logs)) {
    if (Number(line.level) >= 40) warnings.set(String(line.msg), (warnings.get(String(line.msg)) ?? 0) + 1);
  }
  for (const [msg, count] of warnings) log(`server warning ×${count}: ${msg}`);
  process.stdout.write(
    [
      `Signaling relay, ${pairs} calls × 2 directions, window ${window}, ${seconds} s; latency over ${roundTrips} round trips (ms).`,
      "",
      "| placement | caller→callee p50 / p99 | callee→caller p50 / p99 | relayed msgs/s | refused/s | server CPU µs/msg |",
      "| --- | --- | --- | --- | --- | --- |",
      ...rows,
      "",
    ].join("\n"),
  );
} finally {
  for (const n of nodes) await n.stop({ keepData: true });
  await etcd.destroy();
  rmSync(dir, { recursive: true, force: true });
}
