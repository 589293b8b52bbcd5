/**
 * Presence on etcd (PRODUCT.md §10): one lease per node, kept alive; the node key and
 * every device key of this node are attached to it, so a dead node's devices vanish
 * within the TTL. Lookups are served from a cache that a prefix watch keeps correct.
 * Writes retry while etcd is unreachable; a lost lease is replaced and everything
 * re-announced on the new one (see lease-keeper.ts).
 */
import { ConsecutiveBreaker, circuitBreaker, ExponentialBackoff, handleWhen, type IBackoff } from "cockatiel";
import { Etcd3, type IEvent, isRecoverableError, type Lease } from "etcd3";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Presence } from "../../app/ports/presence.ts";
import { createPresenceKeys, decodeDeviceValue, encodeDeviceValue } from "./etcd-keys.ts";
import { startLeaseKeeper } from "./lease-keeper.ts";
import { createLocationCache } from "./location-cache.ts";
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

interface OwnDevice {
  readonly userId: string;
  readonly deviceId: string;
  readonly sessionId: string;
  readonly value: string;
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
  const own = new Map<string, OwnDevice>();
  const chains = new Map<string, Promise<void>>();
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
        const value = ev.type === "Put" ? decodeDeviceValue(ev.kv.value.toString()) : undefined;
        const location = value && { userId: key.userId, deviceId: key.deviceId, ...value };
        cache.apply({ userId: key.userId, deviceId: key.deviceId, location, revision: Number(ev.kv.mod_revision) });
      }
    }
  };
  /** Per device key, one write at a time, in call order. */
  const serial = (key: string, write: () => Promise<void>): Promise<void> => {
    const next = (chains.get(key) ?? Promise.resolve()).then(write);
    chains.set(key, next);
    void next.finally(() => chains.get(key) === next && chains.delete(key));
    return next;
  };
  /** Retries `attempt` (backoff up to 2 s) until it succeeds or the adapter closes. */
  const persist = async (what: string, attempt: () => Promise<boolean>) => {
    for (let n = 0; !closed; n++) {
      try {
        if (await attempt()) return;
      } catch (error) {
        if (closed) return;
        metrics.etcdErrors.inc({ operation: "write" });
        logger[n === 0 ? "warn" : "debug"]({ err: error, attempt: n }, `presence ${what} failed; retrying`);
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** n, 2_000)).unref());
      }
    }
  };
  /** A write this node made shows in its own cache once the watch delivered it. */
  const settle = async (userId: string, revision: number) => {
    if (cache.tracks(userId)) await watch.reached(revision, SETTLE_TIMEOUT_MS);
  };
  const putDevice = (lease: Lease, key: string, device: OwnDevice) => {
    metrics.etcdRequests.inc({ operation: "write" });
    return lease.put(key).value(device.value).exec();
  };
  /** Writes the node key and all devices of this node on a freshly granted lease. */
  const announceAll = async (lease: Lease) => {
    metrics.etcdRequests.inc({ operation: "write" });
    await lease.put(keys.node(nodeId)).value(address).exec();
    // A live iterator: devices announced while this runs are written too.
    const pending = own.entries();
    const worker = async () => {
      for (let next = pending.next(); !next.done; next = pending.next()) {
        const [key, device] = next.value;
        if (own.get(key) === device) await putDevice(lease, key, device);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
  };

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
    onGranted: announceAll,
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
    async announce({ userId, deviceId, sessionId }) {
      const key = keys.device(userId, deviceId);
      const device: OwnDevice = { userId, deviceId, sessionId, value: encodeDeviceValue({ nodeId, sessionId }) };
      own.set(key, device);
      await serial(key, () =>
        persist("announce", async () => {
          if (own.get(key) !== device) return true; // superseded or withdrawn
          // Waits while a lost lease is replaced; that re-announce reads `own`, so ordering holds.
          const lease = await keeper.current();
          const res = await putDevice(lease, key, device);
          if (!keeper.isCurrent(lease)) return false; // lost meanwhile: write again on the new lease
          await settle(userId, Number(res.header.revision));
          return true;
        }),
      );
    },
    async withdraw(userId, deviceId, sessionId) {
      const key = keys.device(userId, deviceId);
      const device = own.get(key);
      if (device?.sessionId !== sessionId) return;
      own.delete(key);
      await serial(key, () =>
        persist("withdraw", async () => {
          await keeper.current(); // after any re-announce in progress, which no longer sees this device
          metrics.etcdRequests.inc({ operation: "write" });
          // Only while the key still holds this node's value for this session (the device may have moved on).
          const res = await client.if(key, "Value", "==", device.value).then(client.delete().key(key)).commit();
          if (res.succeeded) await settle(userId, Number(res.header.revision));
          return true;
        }),
      );
    },
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
    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      await keeper.close();
      await watch.close();
      client.close();
    },
  };
}
