/** Test helpers for the etcd presence adapter: clusters of nodes under a fresh key prefix. */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { pino } from "pino";
import { Registry } from "prom-client";
import type { Presence } from "../../app/ports/presence.ts";
import { createEtcdPresence } from "./etcd-presence.ts";

/** Set CALLDROP_TEST_LOG_LEVEL=debug to see the adapters' logs. */
const logger = pino({ level: process.env.CALLDROP_TEST_LOG_LEVEL ?? "silent" });

/**
 * Nodes on one etcd (or one etcd per presence shard, given a list) under a fresh prefix;
 * `registries` exposes each node's metrics.
 */
export function etcdCluster(endpoint: string | readonly string[], leaseTtlSeconds = 5) {
  const shards = (typeof endpoint === "string" ? [endpoint] : endpoint).map((e) => [e]);
  const keyPrefix = `/calldrop-test/${randomUUID()}/`;
  const nodes: Presence[] = [];
  const registries = new Map<string, Registry>();
  return {
    keyPrefix,
    registries,
    async startNode(nodeId: string, address: string) {
      const registry = new Registry();
      const node = await createEtcdPresence({
        nodeId,
        address,
        shards,
        keyPrefix,
        leaseTtlSeconds,
        logger,
        registry,
      });
      registries.set(nodeId, registry);
      nodes.push(node);
      return node;
    },
    async close() {
      await Promise.all(nodes.map((n) => n.close()));
    },
  };
}

/** Current value of a counter (with labels) in a registry. */
export async function counter(registry: Registry | undefined, name: string, labels: Record<string, string> = {}) {
  const metric = registry?.getSingleMetric(name);
  assert.ok(metric, `metric ${name} missing`);
  const { values } = await metric.get();
  const match = values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return match?.value ?? 0;
}

/** Starts recording unhandled rejections; the returned function stops and asserts there were none. */
export function trackUnhandledRejections(): () => void {
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", record);
  return () => {
    process.off("unhandledRejection", record);
    assert.deepEqual(unhandled, []);
  };
}
