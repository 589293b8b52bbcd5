/**
 * Presence on etcd (docs/spec.md §10, docs/cluster.md "Presence at scale", "Sharded
 * presence"): device keys are spread over one or more etcd clusters (shards) by a hash of
 * the user id (user-shard.ts); this node holds one lease in each, kept alive, and writes
 * each device on the lease of its user's shard, so a dead node's devices vanish within the
 * TTL everywhere. Node keys live in shard 0, on the node's lease there: its expiry is the
 * node's death, seen by every node through one watch, and from then on the dead node's
 * devices are hidden in every shard, whatever their own lease still says. A node follows
 * only what it needs: the node keys and the devices of the users it looked up, each read
 * once from its shard and then kept correct by a watch of that user's keys while cached.
 * Writes retry while etcd is unreachable; a lost lease is replaced and everything of that
 * shard re-announced on the new one (see lease-keeper.ts).
 */
import type { IEvent } from "etcd3";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { DeviceLocation, Presence } from "../../app/ports/presence.ts";
import { createPresenceKeys, decodeDeviceValue } from "./etcd-keys.ts";
import { createLocationCache } from "./location-cache.ts";
import { createPresenceMetrics } from "./presence-metrics.ts";
import { connectPresenceShard, type PresenceShard } from "./presence-shard.ts";
import { type PresenceWatch, startPresenceWatch } from "./presence-watch.ts";
import { createShardLayout } from "./shard-layout.ts";
import { userShard } from "./user-shard.ts";

/** Options of the etcd presence adapter. */
export interface EtcdPresenceOptions {
  readonly nodeId: string;
  /** host:port of this node's internal relay listener, published under the node key. */
  readonly address: string;
  /**
   * The etcd clusters presence is spread over, each as its client endpoints (host:port, plain
   * http). Shard 0 also holds the node keys. Every node must list the same shards in the same order.
   */
  readonly shards: readonly (readonly string[])[];
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

/** Departed nodes remembered to hide their devices in shards whose lease has not expired yet. */
const maxDeparted = 10_000;

/** Connects to etcd, registers this node and starts watching; resolves once the node is announced. */
export async function createEtcdPresence(options: EtcdPresenceOptions): Promise<Presence> {
  const { nodeId, address, logger } = options;
  if (options.shards.length === 0) throw new Error("etcd presence needs at least one shard");
  const keys = createPresenceKeys(options.keyPrefix);
  const metrics = createPresenceMetrics(options.registry, () => cache.size);
  const ttlSeconds = options.leaseTtlSeconds ?? 10;
  const shards: PresenceShard[] = options.shards.map((endpoints, index) =>
    connectPresenceShard({
      endpoints,
      keys,
      nodeId,
      ttlSeconds,
      wrote: (change) => cache.apply(change),
      logger: options.shards.length > 1 ? logger.child({ presenceShard: index }) : logger,
      metrics,
    }),
  );
  const primary = shards[0] as PresenceShard;
  const shardOf = (userId: string) => shards[userShard(userId, shards.length)] as PresenceShard;
  /** One watch per cached user; an outage is reported once, by the node watch, not by each of these. */
  const userWatches = new Map<string, PresenceWatch>();
  const quietLogger = logger.child({}, { level: "error" });
  const idleMs = options.cacheIdleMs ?? 600_000;
  const deviceEvents = new Map(shards.map((shard) => [shard, onDeviceEvents(shard)]));
  const cache = createLocationCache({
    maxUsers: options.maxCachedUsers ?? 20_000,
    idleMs,
    now: Date.now,
    hooks: {
      cached: (userId, revision) => {
        const shard = shardOf(userId);
        const watch = startPresenceWatch({
          client: shard.client,
          prefix: keys.user(userId),
          fromRevision: revision + 1,
          onEvents: deviceEvents.get(shard) as (events: readonly IEvent[]) => void,
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
  /** Nodes seen leaving (and not back): their devices are hidden until each shard's lease drops them. */
  const departed = new Set<string>();
  const listeners = new Set<(nodeId: string) => void>();
  const leaseListeners = new Set<() => void>();
  let closed = false;

  const joined = (id: string, nodeAddress: string) => {
    nodes.set(id, nodeAddress);
    departed.delete(id);
  };
  const nodeLeft = (left: string) => {
    if (left === nodeId) return;
    departed.add(left);
    for (const oldest of departed) {
      if (departed.size <= maxDeparted) break;
      departed.delete(oldest);
    }
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
    const res = await primary.client.getAll().prefix(keys.nodesPrefix).exec();
    const before = [...nodes.keys()];
    nodes.clear();
    for (const kv of res.kvs) {
      const key = keys.parse(kv.key.toString());
      if (key?.kind === "node") joined(key.nodeId, kv.value.toString());
    }
    for (const id of before) if (!nodes.has(id)) nodeLeft(id);
    return Number(res.header.revision);
  };
  const onNodeEvents = (events: readonly IEvent[]) => {
    for (const ev of events) {
      const key = keys.parse(ev.kv.key.toString());
      if (key?.kind !== "node") continue;
      if (ev.type === "Put") joined(key.nodeId, ev.kv.value.toString());
      else if (nodes.delete(key.nodeId)) {
        logger.info({ nodeId: key.nodeId, address: ev.prev_kv?.value.toString() }, "node left");
        nodeLeft(key.nodeId);
      }
    }
  };
  function onDeviceEvents(shard: PresenceShard) {
    return (events: readonly IEvent[]) => {
      metrics.deviceEvents.inc(events.length);
      for (const ev of events) {
        const key = keys.parse(ev.kv.key.toString());
        if (key?.kind !== "device") continue;
        shard.own.observe(ev);
        const value = ev.type === "Put" ? decodeDeviceValue(ev.kv.value.toString()) : undefined;
        const location = value && { userId: key.userId, deviceId: key.deviceId, ...value };
        cache.apply({ userId: key.userId, deviceId: key.deviceId, location, revision: Number(ev.kv.mod_revision) });
      }
    };
  }
  const live = (locations: readonly DeviceLocation[]) =>
    departed.size === 0 ? locations : locations.filter((l) => !departed.has(l.nodeId));
  const closeShards = async () => {
    await Promise.all(shards.map((s) => s.leave()));
    for (const shard of shards) shard.client.close();
  };

  const layout = createShardLayout({
    client: primary.client,
    keys,
    shardCount: shards.length,
    nodeId,
    address,
    logger,
    metrics,
  });
  let initialRevision: number;
  try {
    await layout.agree();
    initialRevision = await readNodes();
  } catch (error) {
    await closeShards();
    throw error;
  }
  const watch = startPresenceWatch({
    client: primary.client,
    prefix: keys.nodesPrefix,
    fromRevision: initialRevision + 1,
    onEvents: onNodeEvents,
    resync: readNodes,
    logger,
    metrics,
  });
  // Only shard 0's lease is the node's liveness: losing it means the others saw this node leave.
  const liveness = primary.start({
    register: (lease) => layout.register(lease),
    onLost: () => {
      for (const listener of [...leaseListeners]) {
        try {
          listener();
        } catch (error) {
          logger.error({ err: error }, "onLeaseLost listener failed");
        }
      }
    },
  });
  // The other shards' leases are granted in the background: a shard that is down delays only its users.
  for (const shard of shards.slice(1)) shard.start();
  try {
    await liveness.current();
  } catch (error) {
    await watch.close();
    await closeShards();
    throw error;
  }

  return {
    nodeId,
    announce: ({ userId, deviceId, sessionId }) => shardOf(userId).own.announce(userId, deviceId, sessionId),
    withdraw: (userId, deviceId, sessionId) => shardOf(userId).own.withdraw(userId, deviceId, sessionId),
    async locate(userId) {
      const hit = cache.get(userId);
      metrics.lookups.inc({ result: hit ? "hit" : "miss" });
      if (hit) return live(hit);
      const loaded = await cache.load(userId, async () => {
        metrics.etcdRequests.inc({ operation: "read" });
        const res = await shardOf(userId).client.getAll().prefix(keys.user(userId)).exec();
        const locations = res.kvs.flatMap((kv) => {
          const key = keys.parse(kv.key.toString());
          const value = decodeDeviceValue(kv.value.toString());
          const modRevision = Number(kv.mod_revision);
          return key?.kind === "device" && value ? [{ userId, deviceId: key.deviceId, ...value, modRevision }] : [];
        });
        return { revision: Number(res.header.revision), locations };
      });
      return live(loaded);
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
      clearInterval(idleSweep);
      listeners.clear();
      leaseListeners.clear();
      await Promise.all(shards.map((s) => s.leave()));
      await Promise.all([watch, ...userWatches.values()].map((w) => w.close()));
      for (const shard of shards) shard.client.close();
    },
  };
}
