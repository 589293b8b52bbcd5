/**
 * Where the scenario suite runs: one server process (single node, in-process
 * presence), or three server processes forming a cluster on one etcd (or one etcd per
 * presence shard, the first also holding the call directory) and one shared sqlite file. Scenarios place devices on "node k" (k mod the node count) and fail
 * nodes; on a single node, failing the node means killing and restarting it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Etcd3 } from "etcd3";
import { type EtcdProcess, startPrivateEtcd } from "../support/etcd-control.ts";
import { type ServerProcess, startServer } from "../support/server-process.ts";

/** Timings of the suite (short, so each scenario takes seconds). */
export const timings = {
  ringTimeoutMs: 5_000,
  resumeGraceMs: 10_000,
  leaseTtlS: 2,
};

/** The servers of one suite run. */
export interface Topology {
  readonly kind: "single" | "cluster";
  /** Number of server processes. */
  readonly size: number;
  /** The server for logical node `k` (k mod size). */
  node(k: number): ServerProcess;
  /** Whether logical node `k` is up. */
  up(k: number): boolean;
  /**
   * Node `k` dies (SIGKILL). In a cluster the others carry on; a single node is
   * started again on its data (as a supervisor would).
   */
  kill(k: number): Promise<void>;
  /** Node `k` drains (SIGTERM) and exits; a single node is started again on its data. */
  drain(k: number): Promise<void>;
  /** A node other than `k` that is up (the restarted node itself on a single node). */
  survivor(k: number): number;
  /** Starts a new process in every slot whose node died (as a deployment would). */
  heal(): Promise<void>;
  /** Log lines of every server process this topology ran (dead ones included). */
  logs(): Record<string, unknown>[];
  /** Restarts etcd, every shard of it (cluster only). */
  restartEtcd?(): Promise<void>;
  /** Per presence shard, the users whose device keys were written there so far (cluster only). */
  shardUsers?(): readonly ReadonlySet<string>[];
  close(): Promise<void>;
}

const env = (extra: Record<string, string> = {}) => ({
  CALLDROP_CALLS__RING_TIMEOUT_MS: String(timings.ringTimeoutMs),
  CALLDROP_SESSIONS__RESUME_GRACE_MS: String(timings.resumeGraceMs),
  CALLDROP_TAKEOVER__SWEEP_INTERVAL_MS: "300",
  CALLDROP_TAKEOVER__OVERDUE_GRACE_MS: "300",
  CALLDROP_TAKEOVER__SECOND_PASS_MS: "1000",
  CALLDROP_TAKEOVER__ORPHAN_SCAN_INTERVAL_MS: "1000",
  CALLDROP_SERVER__DRAIN_TIMEOUT_MS: "4000",
  ...extra,
});

/** Starts the single-node topology; `extra` adds CALLDROP_* settings (e.g. the push gateway). */
export async function singleNode(extra: Record<string, string> = {}): Promise<Topology> {
  const dir = mkdtempSync(join(tmpdir(), "calldrop-scn-"));
  const dead: ServerProcess[] = [];
  let server = await startServer(env(extra), dir);
  const restart = async (signal: NodeJS.Signals) => {
    await server.stop({ keepData: true, signal });
    dead.push(server);
    server = await startServer(env(extra), dir);
  };
  return {
    kind: "single",
    size: 1,
    node: () => server,
    up: () => true,
    kill: () => restart("SIGKILL"),
    drain: () => restart("SIGTERM"),
    survivor: () => 0,
    heal: async () => {},
    logs: () => [...dead, server].flatMap((s) => s.logs),
    async close() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Records, per etcd, the users whose device keys appear under the default presence prefix
 * (docs/cluster.md "Sharded presence": each user's keys in its shard only).
 */
function watchShardUsers(etcds: readonly EtcdProcess[]) {
  const devices = "/calldrop/devices/";
  const seen = etcds.map(() => new Set<string>());
  const clients = etcds.map((e) => new Etcd3({ hosts: `http://${e.endpoint}` }));
  const watchers = Promise.all(
    clients.map(async (client, i) => {
      const watcher = await client.watch().prefix(devices).create();
      watcher.on("put", (kv) => {
        const user = kv.key.toString().slice(devices.length).split("/")[0];
        if (user) seen[i]?.add(decodeURIComponent(user));
      });
      return watcher;
    }),
  );
  return {
    ready: watchers,
    seen,
    async close() {
      // A client closed with a live watcher keeps the process alive: cancel first.
      for (const w of await watchers) await w.cancel();
      for (const c of clients) c.close();
    },
  };
}

/**
 * Starts three nodes on private etcds (the suite restarts them) and one store file: one etcd
 * for presence and the call directory, or with `presenceShards` > 1 that many etcds, presence
 * spread over all of them and the call directory on the first.
 */
export async function threeNodes(
  extra: Record<string, string> = {},
  options: { presenceShards?: number } = {},
): Promise<Topology> {
  const etcds: EtcdProcess[] = [];
  for (let i = 0; i < (options.presenceShards ?? 1); i++) etcds.push(await startPrivateEtcd());
  const etcd = etcds[0] as EtcdProcess;
  const shardUsers = watchShardUsers(etcds);
  await shardUsers.ready;
  const destroyEtcds = async () => {
    await shardUsers.close();
    for (const e of etcds) await e.destroy();
  };
  const shards = etcds.length > 1 ? JSON.stringify(etcds.map((e) => ({ endpoints: [e.endpoint] }))) : undefined;
  const dir = mkdtempSync(join(tmpdir(), "calldrop-scn-"));
  const clusterEnv = env({
    ...extra,
    ...(shards && { CALLDROP_CLUSTER__PRESENCE_SHARDS: shards }),
    CALLDROP_CLUSTER__ETCD_ENDPOINTS: JSON.stringify([etcd.endpoint]),
    CALLDROP_CLUSTER__RELAY_SECRET: "scenario-relay-secret-0123456789",
    CALLDROP_CLUSTER__INTERNAL_PORT: "0",
    CALLDROP_CLUSTER__LEASE_TTL_S: String(timings.leaseTtlS),
    CALLDROP_CLUSTER__FORWARD_TIMEOUT_MS: "8000",
  });
  const servers: ServerProcess[] = [];
  const retired: ServerProcess[] = [];
  const alive = [true, true, true];
  const launch = (i: number) => startServer({ ...clusterEnv, CALLDROP_CLUSTER__NODE_NAME: `node${i}` }, dir);
  try {
    for (let i = 0; i < 3; i++) servers.push(await launch(i));
  } catch (err) {
    for (const s of servers) await s.stop({ keepData: true });
    await destroyEtcds();
    throw err;
  }
  const at = (k: number) => servers[k % 3] as ServerProcess;
  const stop = async (k: number, signal: NodeJS.Signals) => {
    alive[k % 3] = false;
    await at(k).stop({ keepData: true, signal });
  };
  return {
    kind: "cluster",
    size: 3,
    node: at,
    up: (k) => alive[k % 3] === true,
    kill: (k) => stop(k, "SIGKILL"),
    drain: (k) => stop(k, "SIGTERM"),
    survivor(k) {
      for (let i = 1; i < 3; i++) if (alive[(k + i) % 3]) return (k + i) % 3;
      throw new Error("no node is up");
    },
    async heal() {
      for (let i = 0; i < 3; i++) {
        if (alive[i]) continue;
        retired.push(servers[i] as ServerProcess);
        servers[i] = await launch(i);
        alive[i] = true;
      }
    },
    logs: () => [...retired, ...servers].flatMap((s) => s.logs),
    async restartEtcd() {
      await Promise.all(etcds.map((e) => e.stop()));
      await new Promise((r) => setTimeout(r, 1_000));
      await Promise.all(etcds.map((e) => e.start()));
    },
    shardUsers: () => shardUsers.seen,
    async close() {
      for (const s of servers) await s.stop({ keepData: true });
      await destroyEtcds();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
