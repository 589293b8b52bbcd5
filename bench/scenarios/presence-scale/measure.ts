/**
 * One presence-scale run (docs/cluster.md "Presence at scale"): a real etcd, `devices` device
 * keys, K nodes in this process, and `changes` presence changes (a device reconnecting with a
 * new session), under one of two designs:
 *  - "prefix watch" (the design before): every node watches the whole device keyspace;
 *  - "per-user watch" (src/adapters/presence/etcd-presence.ts): every node looks up the users
 *    of its calls and follows only those.
 * Both see the same keys and the same writes; what differs is what etcd sends and to whom.
 */
import { randomUUID } from "node:crypto";
import { Etcd3 } from "etcd3";
import { pino } from "pino";
import { Registry } from "prom-client";
import { createPresenceKeys, encodeDeviceValue } from "../../../src/adapters/presence/etcd-keys.ts";
import { createEtcdPresence } from "../../../src/adapters/presence/etcd-presence.ts";
import type { Presence } from "../../../src/app/ports/presence.ts";
import type { ProcSample } from "../../lib/proc-stats.ts";
import { type LatencySummary, summarize } from "../../lib/stats.ts";

export type Design = "prefix watch" | "per-user watch";

export interface PresenceScalePlan {
  readonly devices: number;
  readonly changes: number;
  /** Fraction of users in a call at any time; each is looked up by two nodes (its call's two ends). */
  readonly inCallFraction: number;
}

export interface PresenceScaleResult {
  readonly design: Design;
  readonly nodes: number;
  readonly changes: number;
  /** Device events etcd delivered to all nodes, per change. */
  readonly eventsPerChange: number;
  /** etcd CPU per change, µs. */
  readonly etcdCpuUsPerChange: number;
  /** Lookups of users not cached yet (one etcd range read). */
  readonly missLookupMs: LatencySummary | undefined;
  readonly hitLookupMs: LatencySummary | undefined;
  /** Cached entries that differed from etcd right after the last change, and how long until none did (when the first check that found none began). */
  readonly staleRate: number | undefined;
  readonly staleRecoveryMs: number | undefined;
  /** Watches the nodes opened (the per-user design: one per cached user per node). */
  readonly watches: number;
}

const logger = pino({ level: "silent" });
const USERS_PER_DEVICE = 0.5;
const userOf = (device: number) => `u${Math.floor(device * USERS_PER_DEVICE)}`;
const deviceOf = (device: number) => `d${device % 2}`;

/** Writes `count` device keys under `prefix` in batches (no lease: they stand for other nodes' devices). */
export async function seedDevices(client: Etcd3, prefix: string, count: number): Promise<void> {
  const keys = createPresenceKeys(prefix);
  const value = encodeDeviceValue({ nodeId: "elsewhere", sessionId: "s0" });
  for (let start = 0; start < count; start += 128) {
    const batch = client.if(keys.node("nobody"), "Version", "==", 0);
    const puts = [];
    for (let d = start; d < Math.min(count, start + 128); d++) {
      puts.push(client.put(keys.device(userOf(d), deviceOf(d))).value(value));
    }
    await batch.then(...puts).commit();
  }
}

/** Runs one design at one node count against the seeded keys. */
export async function measurePresenceScale(options: {
  readonly endpoint: string;
  readonly prefix: string;
  readonly design: Design;
  readonly nodes: number;
  readonly plan: PresenceScalePlan;
  readonly etcdCpu: () => ProcSample;
}): Promise<PresenceScaleResult> {
  const { endpoint, prefix, design, nodes: k, plan, etcdCpu } = options;
  const keys = createPresenceKeys(prefix);
  const admin = new Etcd3({ hosts: `http://${endpoint}` });
  const users = Math.ceil(plan.devices * USERS_PER_DEVICE);
  const closers: (() => Promise<void> | void)[] = [() => admin.close()];
  try {
    let delivered: () => Promise<number>;
    let caches: { node: Presence; users: string[] }[] = [];
    const missMs: number[] = [];
    const hitMs: number[] = [];
    if (design === "prefix watch") {
      let events = 0;
      for (let i = 0; i < k; i++) {
        const client = new Etcd3({ hosts: `http://${endpoint}` });
        const watcher = await client.watch().prefix(`${prefix}devices/`).withPreviousKV().create();
        watcher.on("data", (res) => {
          events += res.events.length;
        });
        closers.push(async () => {
          await watcher.cancel();
          client.close();
        });
      }
      delivered = async () => events;
    } else {
      const registries: Registry[] = [];
      const started = await Promise.all(
        Array.from({ length: k }, async (_, i) => {
          const registry = new Registry();
          registries.push(registry);
          const node = await createEtcdPresence({
            nodeId: `bench-${i}-${randomUUID().slice(0, 8)}`,
            address: `127.0.0.1:${20_000 + i}`,
            shards: [[endpoint]],
            keyPrefix: prefix,
            logger,
            registry,
          });
          closers.push(() => node.close());
          return node;
        }),
      );
      // Each user in a call is looked up by two nodes (the two ends of its call).
      caches = started.map((node) => ({ node, users: [] }));
      const inCall = Math.round(users * plan.inCallFraction);
      for (let u = 0; u < inCall; u++) {
        const a = (u * 7) % k;
        caches[a]?.users.push(`u${u}`);
        caches[(a + 1 + (u % Math.max(1, k - 1))) % k]?.users.push(`u${u}`);
      }
      await Promise.all(
        caches.map(async ({ node, users: mine }) => {
          for (const user of mine) {
            const t0 = performance.now();
            await node.locate(user);
            missMs.push(performance.now() - t0);
          }
          for (const user of mine.slice(0, 200)) {
            const t0 = performance.now();
            await node.locate(user);
            hitMs.push(performance.now() - t0);
          }
        }),
      );
      delivered = async () => {
        let sum = 0;
        for (const registry of registries) {
          const metric = registry.getSingleMetric("calldrop_presence_device_events_total");
          sum += (await metric?.get())?.values[0]?.value ?? 0;
        }
        return sum;
      };
    }

    const watches = design === "prefix watch" ? k : caches.reduce((n, c) => n + c.users.length, 0);
    const eventsBefore = await delivered();
    const cpuBefore = etcdCpu();
    // Device d is written at most once (7919 is prime to the device counts used), so the truth is known here.
    const session = new Map<string, string>();
    let next = 0;
    const writer = async () => {
      for (let c = next++; c < plan.changes; c = next++) {
        const d = (c * 7919) % plan.devices;
        const key = keys.device(userOf(d), deviceOf(d));
        session.set(key, `s${c + 1}`);
        await admin.put(key).value(encodeDeviceValue({ nodeId: "elsewhere", sessionId: `s${c + 1}` }));
      }
    };
    await Promise.all(Array.from({ length: 16 }, writer));
    const lastChange = performance.now();

    // Cached entries that were stale right after the last write, then the time until none is.
    let staleRate: number | undefined;
    let staleRecoveryMs: number | undefined;
    const pairs = caches.flatMap(({ node, users: mine }) => mine.map((user) => ({ node, user })));
    if (pairs.length > 0) {
      const stale = async () => {
        let count = 0;
        for (const { node, user } of pairs) {
          const seen = await node.locate(user);
          if (seen.some((l) => l.sessionId !== (session.get(keys.device(user, l.deviceId)) ?? "s0"))) count++;
        }
        return count;
      };
      for (let pass = 0; ; pass++) {
        const checkedAt = performance.now();
        const count = await stale();
        if (pass === 0) staleRate = count / pairs.length;
        staleRecoveryMs = checkedAt - lastChange;
        if (count === 0) break;
        if (performance.now() - lastChange > 30_000) throw new Error("caches did not converge within 30 s");
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    // Count the events once they stopped arriving (watches are asynchronous).
    let eventsAfter = await delivered();
    for (let quiet = 0; quiet < 5; ) {
      await new Promise((r) => setTimeout(r, 100));
      const now = await delivered();
      quiet = now === eventsAfter ? quiet + 1 : 0;
      eventsAfter = now;
    }
    const cpuAfter = etcdCpu();
    return {
      design,
      nodes: k,
      changes: plan.changes,
      eventsPerChange: (eventsAfter - eventsBefore) / plan.changes,
      etcdCpuUsPerChange: ((cpuAfter.cpuMs - cpuBefore.cpuMs) * 1000) / plan.changes,
      missLookupMs: missMs.length ? summarize(missMs) : undefined,
      hitLookupMs: hitMs.length ? summarize(hitMs) : undefined,
      staleRate,
      staleRecoveryMs,
      watches,
    };
  } finally {
    for (const close of closers.reverse()) await close();
  }
}
