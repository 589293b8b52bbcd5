/**
 * One call-directory run (docs/cluster.md "Call directory size"): a private real etcd, `active`
 * connected calls written through the etcd CallDirectory in one key layout, and `lifecycles`
 * full calls (claim → connecting → connected → ended → release) one after the other. Measured:
 *  - bytes per active call in etcd's file: dbSize after compaction and defragmentation, minus
 *    the empty file, over the calls (every key revision costs its bbolt element, revision key
 *    and KeyValue record, not just its key and value);
 *  - the raw key and value bytes and the keys per call;
 *  - etcd revisions (transactions that wrote) and key writes (watch events) per lifecycle;
 *  - each operation's latency, and etcd CPU per lifecycle.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { type Etcd3, Range } from "etcd3";
import { v7 as uuidv7 } from "uuid";
import {
  createEtcdCallDirectory,
  type DirectoryLayoutName,
} from "../../../src/adapters/directory/etcd-call-directory.ts";
import type { CallDirectory } from "../../../src/app/ports/call-directory.ts";
import type { CallState } from "../../../src/domain/call-types.ts";
import type { ProcSample } from "../../lib/proc-stats.ts";
import { type LatencySummary, summarize } from "../../lib/stats.ts";

export interface CallDirectoryPlan {
  /** Connected calls held at once for the size figure. */
  readonly active: number;
  /** Full call lifecycles for the write and latency figures. */
  readonly lifecycles: number;
}

export interface CallDirectoryResult {
  readonly layout: DirectoryLayoutName;
  readonly active: number;
  /** dbSize growth after compaction + defrag, per active call. */
  readonly dbBytesPerCall: number;
  /** Key + value bytes per active call as stored (what a range read returns). */
  readonly rawBytesPerCall: number;
  readonly keysPerCall: number;
  /** Store revisions (one per transaction that wrote) per full call. */
  readonly revisionsPerLifecycle: number;
  /** Keys put or deleted per full call (watch events on the directory's prefix). */
  readonly keyWritesPerLifecycle: number;
  /** etcd CPU per full call, µs (serving the reads of each read-modify-write too). */
  readonly etcdCpuUsPerLifecycle: number;
  readonly claimMs: LatencySummary;
  readonly updateMs: LatencySummary;
  readonly releaseMs: LatencySummary;
  readonly findByUserMs: LatencySummary;
}

/** Ids shaped like production's: UUID users (identity provider subjects), 22-char device ids, UUIDv7 calls. */
function ringingCall(ownerStartMs: number): Extract<CallState, { phase: "ringing" }> {
  return {
    phase: "ringing",
    call: {
      callId: uuidv7(),
      caller: { userId: randomUUID(), deviceId: randomBytes(16).toString("base64url") },
      calleeUserId: randomUUID(),
      video: true,
      startedAtMs: ownerStartMs,
      ringDeadlineMs: ownerStartMs + 30_000,
    },
    ringing: [randomBytes(16).toString("base64url"), randomBytes(16).toString("base64url")],
    pushed: true,
  };
}

const connecting = (s: Extract<CallState, { phase: "ringing" }>): CallState => ({
  phase: "connecting",
  call: s.call,
  answeredDeviceId: s.ringing[0] ?? "",
  answeredAtMs: s.call.startedAtMs + 6_000,
  setupDeadlineMs: s.call.startedAtMs + 36_000,
  candidates: 4,
});

const connected = (s: Extract<CallState, { phase: "ringing" }>): CallState => ({
  phase: "connected",
  call: s.call,
  answeredDeviceId: s.ringing[0] ?? "",
  answeredAtMs: s.call.startedAtMs + 6_000,
  connectedAtMs: s.call.startedAtMs + 7_200,
  path: "p2p",
  setupMs: 1_200,
  candidates: 21,
});

const ended = (s: Extract<CallState, { phase: "ringing" }>): CallState => ({
  phase: "ended",
  call: s.call,
  end: {
    outcome: "completed",
    reason: "hangup",
    endedAtMs: s.call.startedAtMs + 300_000,
    answeredDeviceId: s.ringing[0] ?? "",
    answeredAtMs: s.call.startedAtMs + 6_000,
    path: "p2p",
    setupMs: 1_200,
  },
});

/** A pod-shaped node id: StatefulSet pod name plus the per-process suffix (src/cluster-stack.ts). */
const nodeId = (n: number) => `calldrop-signaling-${n}-${randomBytes(4).toString("hex")}`;

async function timed<T>(samples: number[], fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const result = await fn();
  samples.push(performance.now() - t0);
  return result;
}

/** Compacts all history, defragments, and returns the file size. */
async function compactedDbSize(admin: Etcd3): Promise<number> {
  const { header } = await admin.maintenance.status();
  await admin.kv.compact({ revision: header?.revision ?? "0", physical: true });
  await admin.maintenance.defragment();
  return Number((await admin.maintenance.status()).dbSize);
}

/** Keys under `prefix` and their key + value bytes, read in pages. */
async function storedBytes(admin: Etcd3, prefix: string): Promise<{ keys: number; raw: number }> {
  const end = Range.prefix(prefix).end;
  let keys = 0;
  let raw = 0;
  for (let from = Buffer.from(prefix); ; ) {
    const page = await admin.getAll().inRange(new Range(from, end)).sort("Key", "Ascend").limit(1_000).exec();
    for (const kv of page.kvs) {
      keys++;
      raw += kv.key.length + kv.value.length;
    }
    const last = page.kvs.at(-1);
    if (!last || page.kvs.length < 1_000) return { keys, raw };
    from = Buffer.concat([last.key, Buffer.from([0])]);
  }
}

/** Runs one layout on an etcd no one else writes to (`admin` on the same endpoint). */
export async function measureCallDirectory(options: {
  readonly endpoint: string;
  readonly admin: Etcd3;
  readonly layout: DirectoryLayoutName;
  readonly plan: CallDirectoryPlan;
  readonly etcdCpu: () => ProcSample;
}): Promise<CallDirectoryResult> {
  const { endpoint, admin, layout, plan, etcdCpu } = options;
  const keyPrefix = "/calldrop-calls/";
  const dir: CallDirectory = createEtcdCallDirectory({ endpoints: [endpoint], keyPrefix, writeLayout: layout });
  const nodes = Array.from({ length: 50 }, (_, n) => nodeId(n));
  const claimMs: number[] = [];
  const updateMs: number[] = [];
  const releaseMs: number[] = [];
  const findByUserMs: number[] = [];
  try {
    await admin.delete().prefix(keyPrefix).exec();
    const emptyDb = await compactedDbSize(admin);

    // Size: `active` connected calls, written 32 at a time.
    let next = 0;
    const startMs = Date.now();
    const worker = async () => {
      for (let i = next++; i < plan.active; i = next++) {
        const s = ringingCall(startMs + i);
        const owner = nodes[i % nodes.length] ?? "";
        const won = await dir.claim(s, owner);
        if (!won.ok) throw new Error("call-directory bench: a claim between fresh users lost");
        await dir.update(connecting(s));
        await dir.update(connected(s));
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    const fullDb = await compactedDbSize(admin);
    const { keys, raw } = await storedBytes(admin, keyPrefix);

    // Writes and latency: full lifecycles, one at a time, on top of the active calls.
    let events = 0;
    const watcher = await admin.watch().prefix(keyPrefix).create();
    watcher.on("put", () => events++);
    watcher.on("delete", () => events++);
    const rev0 = Number((await admin.maintenance.status()).header?.revision);
    const cpu0 = etcdCpu();
    for (let i = 0; i < plan.lifecycles; i++) {
      const s = ringingCall(Date.now());
      const owner = nodes[i % nodes.length] ?? "";
      await timed(claimMs, () => dir.claim(s, owner));
      await timed(updateMs, () => dir.update(connecting(s)));
      await timed(updateMs, () => dir.update(connected(s)));
      await timed(findByUserMs, () => dir.findByUser(s.call.calleeUserId));
      await timed(updateMs, () => dir.update(ended(s)));
      await timed(releaseMs, () => dir.release(s.call.callId));
    }
    const cpu1 = etcdCpu();
    const rev1 = Number((await admin.maintenance.status()).header?.revision);
    // Every write raised an event; wait until the watch delivered the last of them.
    const expectedAtLeast = rev1 - rev0;
    for (let waited = 0; events < expectedAtLeast && waited < 100; waited++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await watcher.cancel();
    await admin.delete().prefix(keyPrefix).exec();
    return {
      layout,
      active: plan.active,
      dbBytesPerCall: (fullDb - emptyDb) / plan.active,
      rawBytesPerCall: raw / plan.active,
      keysPerCall: keys / plan.active,
      revisionsPerLifecycle: (rev1 - rev0) / plan.lifecycles,
      keyWritesPerLifecycle: events / plan.lifecycles,
      etcdCpuUsPerLifecycle: ((cpu1.cpuMs - cpu0.cpuMs) * 1000) / plan.lifecycles,
      claimMs: summarize(claimMs),
      updateMs: summarize(updateMs),
      releaseMs: summarize(releaseMs),
      findByUserMs: summarize(findByUserMs),
    };
  } finally {
    await dir.close();
  }
}
