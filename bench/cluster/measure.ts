/**
 * Cross-node vs same-node signaling relay (docs/spec.md §10, §12): starts etcd and a
 * 2-node cluster (two server processes, one sqlite file), then relays ICE candidates
 * between the two devices of answered calls placed either on one node or across the
 * two (caller on node 0, which runs the call; callee on node 1):
 * - latency: one call, sequential round trips; each leg is one client→server→client hop
 *   (caller→callee is a `deliver` to the other node; callee→caller a forwarded command);
 * - throughput: many calls, both sides sending with a window of unanswered commands.
 * Used by bench/cluster/run.ts and the harness scenario bench/scenarios/cluster-forwarding.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureEtcdInstalled, launchEtcd } from "../../scripts/services/etcd.ts";
import { type ServerProcess, startServer } from "../../test/support/server-process.ts";
import { type BenchDevice, candidate, connectCall, openDevice, tagOf } from "./client.ts";

/** Load shape of one run. */
export interface ClusterBenchOptions {
  readonly pairs: number;
  readonly seconds: number;
  readonly roundTrips: number;
  readonly window: number;
  readonly placements: readonly Placement[];
  readonly log: (line: string) => void;
  /** Prints the relay metrics of both nodes after each throughput phase. */
  readonly debug?: boolean;
  /** NODE_OPTIONS for the server processes (e.g. --cpu-prof). */
  readonly serverNodeOptions?: string;
}

/** The figures of one placement. */
export interface PlacementResult {
  readonly placement: Placement;
  /** One-way latencies in ms, sorted: caller→callee and callee→caller. */
  readonly there: number[];
  readonly back: number[];
  readonly rate: number;
  readonly refusedPerSecond: number;
  readonly cpuUsPerMessage: number;
}

/** Where the two devices of a call are. */
export type Placement = "same node" | "cross node";
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

async function latency(nodes: ServerProcess[], placement: Placement, o: ClusterBenchOptions) {
  const { caller, callee, callId } = await pair(nodes, placement);
  const legs: [number[], number[]] = [[], []];
  for (let i = -100; i < o.roundTrips; i++) {
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

async function throughput(nodes: ServerProcess[], placement: Placement, o: ClusterBenchOptions) {
  const calls = [];
  for (let i = 0; i < o.pairs; i++) calls.push(await pair(nodes, placement));
  let delivered = 0;
  let refused = 0;
  let counting = false;
  let running = true;
  const pump = (from: BenchDevice, to: BenchDevice, callId: string) => {
    let inFlight = 0;
    let n = 0;
    const more = () => {
      while (running && inFlight < o.window) {
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
  await new Promise((r) => setTimeout(r, o.seconds * 1_000));
  const cpu = nodes.reduce((sum, n, i) => sum + cpuSeconds(n.pid) - (cpu0[i] ?? 0), 0);
  const count = delivered;
  if (o.debug) {
    for (const n of nodes) {
      const text = await (await fetch(`${n.baseUrl}/metrics`)).text();
      o.log(
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
  return { rate, refusedPerSecond: refused / o.seconds, cpuUsPerMessage: (cpu / count) * 1e6 };
}

/** Runs the bench; resolves with one result per placement and the servers' warnings. */
export async function measureCluster(
  o: ClusterBenchOptions,
): Promise<{ results: PlacementResult[]; warnings: Map<string, number> }> {
  const etcd = await launchEtcd(ensureEtcdInstalled(o.log));
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
      ...(o.serverNodeOptions ? { NODE_OPTIONS: o.serverNodeOptions } : {}),
    };
    for (let i = 0; i < 2; i++) nodes.push(await startServer(env, dir));
    const results: PlacementResult[] = [];
    for (const placement of o.placements) {
      o.log(`${placement}: latency (${o.roundTrips} round trips)`);
      const [there, back] = await latency(nodes, placement, o);
      o.log(`${placement}: throughput (${o.pairs} calls, window ${o.window}, ${o.seconds} s)`);
      results.push({ placement, there, back, ...(await throughput(nodes, placement, o)) });
    }
    const warnings = new Map<string, number>();
    for (const line of nodes.flatMap((n) => n.logs)) {
      if (Number(line.level) >= 40) warnings.set(String(line.msg), (warnings.get(String(line.msg)) ?? 0) + 1);
    }
    return { results, warnings };
  } finally {
    for (const n of nodes) await n.stop({ keepData: true });
    await etcd.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The nearest-rank percentile of sorted samples. */
export function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}
