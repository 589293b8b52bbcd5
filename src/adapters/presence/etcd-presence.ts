/**
 * Presence on etcd (docs/spec.md §10): one lease per node, kept alive; the node key and
 * every device key of this node are attached to it, so a dead node's devices vanish
 * within the TTL. Lookups are served from a cache that a prefix watch keeps correct.
 * Writes retry while etcd is unreachable; a lost lease is replaced and everything
 * re-announced on the new one (see lease-keeper.ts).
 */
import { ConsecutiveBreaker, circuitBreaker, ExponentialBackoff, handleWhen, type IBackoff } from "cockatiel";
import { Etcd3, type IEvent, isRecoverableError } from "etcd3";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Presence } from "../../app/ports/presence.ts";
import { createPresenceKeys, decodeDeviceValue } from "./etcd-keys.ts";
import { startLeaseKeeper } from "./lease-keeper.ts";
import { createLocationCache } from "./location-cache.ts";
import { createOwnDevices } from "./own-devices.ts";
import { createPresenceMetrics } from "./presence-metrics.ts";
import { startPresenceWatch } from "./presence-watch.ts";

/** Options of the etcd presence adapter. */
export interface EtcdPresenceOptions {
  readonly nodeId: string;
  /** host:port of this node's internal relay listener, published under the node key. */
  readonly address: string;
  /** etcd client endpoints, host:port (plain http). */
  readonly endpoints: readonly string[];
  /** Lease TTL: how long a dead node's devices stay visible. Default 10. */
  readonly leaseTtlSeconds?: number;
  /** Key prefix, ending with "/". Default "/calldrop/". */
  readonly keyPrefix?: string;
  /** Users held in the lookup cache. Default 100 000. */
  readonly maxCachedUsers?: number;
  readonly logger: Logger;
  readonly registry: Registry;
}

/** How long a write waits for the watch to bring it into this node's cache. */
const SETTLE_TIMEOUT_MS = 5_000;

/** Connects to etcd, registers this node and starts watching; resolves once the node is announced. */
export async function createEtcdPresence(options: EtcdPresenceOptions): Promise<Presence> {
  const { nodeId, address, logger } = options;
  const client = new Etcd3({
    hosts: options.endpoints.map((e) => `http://${e}`),
    faultHandling: {
      // etcd3's default breaker stays open 5 s after 3 failures; recover faster after an etcd restart.
      host: () =>
        circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 1_000, breaker: new ConsecutiveBreaker(3) }),
      // Same object etcd3 builds by default (its typings name the interface of an older cockatiel).
      watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 2_000 }) as unknown as IBackoff<unknown>,
    },
  });
  const keys = createPresenceKeys(options.keyPrefix);
  const cache = createLocationCache(options.maxCachedUsers ?? 100_000);
  const metrics = createPresenceMetrics(options.registry, () => cache.size);
  const nodes = new Map<string, string>();
  const listeners = new Set<(nodeId: string) => void>();
  const leaseListeners = new Set<() => void>();
  let closed = false;

  const nodeLeft = (left: string) => {
    if (left === nodeId) return;
    for (const listener of [...listeners]) {
      try {
        listener(left);
      } catch (error) {
        logger.error({ err: error, nodeId: left }, "onNodeLeft listener failed");
      }
    }
  };
  const readNodes = async () => {
    metrics.etcdRequests.inc({ operation: "read" });
    const res = await client.getAll().prefix(keys.nodesPrefix).exec();
    const before = [...nodes.keys()];
    nodes.clear();
    for (const kv of res.kvs) {
      const key = keys.parse(kv.key.toString());
      if (key?.kind === "node") nodes.set(key.nodeId, kv.value.toString());
    }
    for (const id of before) if (!nodes.has(id)) nodeLeft(id);
    return Number(res.header.revision);
  };
  const onEvents = (events: readonly IEvent[]) => {
    for (const ev of events) {
      const key = keys.parse(ev.kv.key.toString());
      if (key?.kind === "node") {
        if (ev.type === "Put") nodes.set(key.nodeId, ev.kv.value.toString());
        else if (nodes.delete(key.nodeId)) {
          logger.info({ nodeId: key.nodeId, address: ev.prev_kv?.value.toString() }, "node left");
          nodeLeft(key.nodeId);
        }
      } else if (key?.kind === "device") {
        own.observe(ev);
        const value = ev.type === "Put" ? decodeDeviceValue(ev.kv.value.toString()) : undefined;
        const location = value && { userId: key.userId, deviceId: key.deviceId, ...value };
        cache.apply({ userId: key.userId, deviceId: key.deviceId, location, revision: Number(ev.kv.mod_revision) });
      }
    }
  };
  /** A write this node made shows in its own cache once the watch delivered it. */
  const settle = async (userId: string, revision: number) => {
    if (cache.tracks(userId)) await watch.reached(revision, SETTLE_TIMEOUT_MS);
  };
  const own = createOwnDevices({
    client,
    keys,
    nodeId,
    address,
    lease: { current: () => keeper.current(), isCurrent: (lease) => keeper.isCurrent(lease) },
    settle,
    logger,
    metrics,
  });

  const initialRevision = await readNodes().catch((error: unknown) => {
    client.close();
    throw error;
  });
  const watch = startPresenceWatch({
    client,
    prefix: keys.prefix,
    fromRevision: initialRevision + 1,
    onEvents,
    resync: async () => {
      cache.reset();
      return readNodes();
    },
    logger,
    metrics,
  });
  const keeper = startLeaseKeeper({
    client,
    ttlSeconds: options.leaseTtlSeconds ?? 10,
    onGranted: (lease) => own.announceAll(lease),
    onLost: () => {
      for (const listener of [...leaseListeners]) {
        try {
          listener();
        } catch (error) {
          logger.error({ err: error }, "onLeaseLost listener failed");
        }
      }
    },
    logger,
    metrics,
  });
  try {
    await keeper.current();
  } catch (error) {
    await watch.close();
    client.close();
    throw error;
  }

  return {
    nodeId,
    announce: ({ userId, deviceId, sessionId }) => own.announce(userId, deviceId, sessionId),
    withdraw: (userId, deviceId, sessionId) => own.withdraw(userId, deviceId, sessionId),
    async locate(userId) {
      const hit = cache.get(userId);
      metrics.lookups.inc({ result: hit ? "hit" : "miss" });
      if (hit) return hit;
      return cache.load(userId, async () => {
        metrics.etcdRequests.inc({ operation: "read" });
        const res = await client.getAll().prefix(keys.user(userId)).exec();
        const locations = res.kvs.flatMap((kv) => {
          const key = keys.parse(kv.key.toString());
          const value = decodeDeviceValue(kv.value.toString());
          return key?.kind === "device" && value ? [{ userId, deviceId: key.deviceId, ...value }] : [];
        });
        return { revision: Number(res.header.revision), locations };
      });
    },
    async nodes() {
      return [...nodes].map(([id, addr]) => ({ nodeId: id, address: addr }));
    },
    onNodeLeft(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onLeaseLost(listener) {
      leaseListeners.add(listener);
      return () => leaseListeners.delete(listener);
    },
    async close() {
      if (closed) return;
      closed = true;
      own.close();
      listeners.clear();
      leaseListeners.clear();
      await keeper.close();
      await watch.close();
      client.close();
    },
  };
}
