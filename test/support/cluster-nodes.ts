/**
 * A small cluster for scenario tests: server processes joined on one etcd under a key
 * prefix of their own (so they never meet other test files' nodes on the shared etcd),
 * sharing one data dir (one store file, as nodes on one machine do).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ServerProcess, startServer } from "./server-process.ts";

/** Running nodes; `close` stops them all and removes their data. */
export interface ClusterNodes {
  readonly nodes: readonly ServerProcess[];
  close(): Promise<void>;
}

/** Starts `count` nodes on the etcd at `etcdEndpoint` (host:port); `env` adds CALLDROP_* overrides. */
export async function startClusterNodes(
  etcdEndpoint: string,
  count: number,
  env: Record<string, string> = {},
): Promise<ClusterNodes> {
  const dir = mkdtempSync(join(tmpdir(), "calldrop-cluster-"));
  const nodes: ServerProcess[] = [];
  const close = async () => {
    for (const n of nodes) await n.stop({ keepData: true });
    rmSync(dir, { recursive: true, force: true });
  };
  const clusterEnv = {
    CALLDROP_CLUSTER__ETCD_ENDPOINTS: JSON.stringify([etcdEndpoint]),
    CALLDROP_CLUSTER__KEY_PREFIX: `/calldrop-test-${process.pid}-${Date.now()}/`,
    CALLDROP_CLUSTER__RELAY_SECRET: "cluster-test-relay-secret-0123456789",
    CALLDROP_CLUSTER__INTERNAL_PORT: "0",
    ...env,
  };
  try {
    for (let i = 0; i < count; i++)
      nodes.push(await startServer({ ...clusterEnv, CALLDROP_CLUSTER__NODE_NAME: `n${i}` }, dir));
  } catch (err) {
    await close();
    throw err;
  }
  return { nodes, close };
}

/** Polls `cond` until it holds, failing with `what` after `timeoutMs`. */
export async function waitUntil(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await cond()); ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
