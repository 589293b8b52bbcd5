/**
 * Presence on etcd (docs/spec.md §10, docs/cluster.md "Presence at scale"): one lease per
 * node, kept alive; the node key and every device key of this node are attached to it, so
 * a dead node's devices vanish within the TTL. A node follows only what it needs: the node
 * keys (one watch; they change when nodes come and go) and the devices of the users it
 * looked up, each read once and then kept correct by a watch of that user's keys while
 * cached. A presence change is thus sent to the few nodes that hold that user, not to
 * every node. Writes retry while etcd is unreachable; a lost lease is replaced and
 * everything re-announced on the new one (see lease-keeper.ts).
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
import { type PresenceWatch, startPresenceWatch } from "./presence-watch.ts";

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
  /** Users held (and watched) in the lookup cache. Default 20 000. */
  readonly maxCachedUsers?: number;
  /** A cached user not looked up for this long is dropped and unwatched. Default 10 minutes. */
  readonly cacheIdleMs?: number;
  readonly logger: Logger;
  readonly registry: Registry;
}

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
  const metrics = createPresenceMetrics(options.registry, () => cache.size);
  /** One watch per cached user; an outage is reported once, by the node watch, not by each of these. */
  const userWatches = new Map<string, PresenceWatch>();
  const quietLogger = logger.child({}, { level: "error" });
  const idleMs = options.cacheIdleMs ?? 600_000;
  const cache = createLocationCache({
    maxUsers: options.maxCachedUsers ?? 20_000,
    idleMs,
    now: Date.now,
    hooks: {
      cached: (userId, revision) => {
        const watch = startPresenceWatch({
          client,
          prefix: keys.user(userId),
          fromRevision: revision + 1,
          onEvents: onDeviceEvents,
          // History compacted past this watch: drop the user; its next lookup reads it again.
          resync: async () => {
            cache.forget(userId);
            return revision;
          },
          logger: quietLogger,
          metrics,
        });
        userWatches.set(userId, watch);
      },
      evicted: (userId) => {
        const watch = userWatches.get(userId);
        userWatches.delete(userId);
        void watch?.close();
      },
    },
  });
  const idleSweep = setInterval(() => cache.evictIdle(), Math.max(1_000, idleMs / 10));
  idleSweep.unref();
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
  const onNodeEvents = (events: readonly IEvent[]) => {
    for (const ev of events) {
      const key = keys.parse(ev.kv.key.toString());
      if (key?.kind !== "node") continue;
      if (ev.type === "Put") nodes.set(key.nodeId, ev.kv.value.toString());
      else if (nodes.delete(key.nodeId)) {
        logger.info({ nodeId: key.nodeId, address: ev.prev_kv?.value.toString() }, "node left");
        nodeLeft(key.nodeId);
      }
    }
  };
  function onDeviceEvents(events: readonly IEvent[]) {
    metrics.deviceEvents.inc(events.length);
    for (const ev of events) {
      const key = keys.parse(ev.kv.key.toString());
      if (key?.kind !== "device") continue;
      own.observe(ev);
      const value = ev.type === "Put" ? decodeDeviceValue(ev.kv.value.toString()) : undefined;
      const location = value && { userId: key.userId, deviceId: key.deviceId, ...value };
      cache.apply({ userId: key.userId, deviceId: key.deviceId, location, revision: Number(ev.kv.mod_revision) });
    }
  }
  const own = createOwnDevices({
    client,
    keys,
    nodeId,
    address,
    lease: { current: () => keeper.current(), isCurrent: (lease) => keeper.isCurrent(lease) },
    wrote: (change) => cache.apply(change),
    logger,
    metrics,
  });

  const initialRevision = await readNodes().catch((error: unknown) => {
    client.close();
    throw error;
  });
  const watch = startPresenceWatch({
    client,
    prefix: keys.nodesPrefix,
    fromRevision: initialRevision + 1,
    onEvents: onNodeEvents,
    resync: readNodes,
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
          const modRevision = Number(kv.mod_revision);
          return key?.kind === "device" && value ? [{ userId, deviceId: key.deviceId, ...value, modRevision }] : [];
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
      clearInterval(idleSweep);
      listeners.clear();
      leaseListeners.clear();
      await keeper.close();
      await Promise.all([watch, ...userWatches.values()].map((w) => w.close()));
      client.close();
    },
  };
}
