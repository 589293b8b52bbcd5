import { BrokenCircuitError, ConsecutiveBreaker, circuitBreaker, handleWhen } from "cockatiel";
import { type ComparatorBuilder, Etcd3, type IKeyValue, isRecoverableError, Range } from "etcd3";
import type { CallDirectory, ClaimResult, LiveCall } from "../../app/ports/call-directory.ts";
import { claimConflict, keepsBusy, preferred } from "../../domain/call-waiting.ts";
import { DomainError } from "../../domain/errors.ts";
import { decodeStoredCall } from "./etcd-directory-codec.ts";
import {
  compactLayout,
  type DirectoryLayout,
  type DirectoryLayoutName,
  legacyLayout,
} from "./etcd-directory-layout.ts";

export type { DirectoryLayoutName } from "./etcd-directory-layout.ts";

/** Options of the etcd call directory. */
export interface EtcdCallDirectoryOptions {
  /** etcd client endpoints, host:port (plain http). */
  readonly endpoints: readonly string[];
  /** Key prefix, ending with "/". Default "/calldrop/". */
  readonly keyPrefix?: string;
  /**
   * The layout new calls are written in (etcd-directory-layout.ts); default "compact". "legacy"
   * writes what nodes before the compact layout wrote: for the rolling-upgrade test and the
   * bench's before figure. Both layouts are always read.
   */
  readonly writeLayout?: DirectoryLayoutName;
}

/** How often a claim, update or takeover re-reads after losing a race. */
const MAX_ATTEMPTS = 20;
/** How long a phase change or release keeps retrying while etcd is unreachable. */
const OUTAGE_RETRY_MS = 60_000;

/** etcd cannot be reached (or its breaker is open after repeated failures). */
const isOutage = (err: unknown) =>
  err instanceof BrokenCircuitError || (err instanceof Error && isRecoverableError(err));

/** Runs `fn`, turning an etcd outage into the port's `unavailable` error. */
async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isOutage(err)) throw new DomainError("unavailable", "call directory unavailable", { cause: err });
    throw err;
  }
}

/** How long a claim retries a failing etcd before it reports an outage (its breaker open reports one at once). */
const CLAIM_RETRY_MS = 1_000;

/**
 * Runs a claim, retrying a passing etcd failure for up to a second: only an outage, not one
 * failed request, may make the call service decide busy and glare on its own.
 */
function claimGuarded<T>(fn: () => Promise<T>): Promise<T> {
  return guarded(async () => {
    const deadline = Date.now() + CLAIM_RETRY_MS;
    for (let n = 0; ; n++) {
      try {
        return await fn();
      } catch (err) {
        if (!isOutage(err) || err instanceof BrokenCircuitError || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 50 * 2 ** n).unref());
      }
    }
  });
}

/** Runs `fn`, retrying with backoff while etcd is unreachable (for writes that must land). */
function persistently<T>(fn: () => Promise<T>): Promise<T> {
  return guarded(async () => {
    const deadline = Date.now() + OUTAGE_RETRY_MS;
    for (let n = 0; ; n++) {
      try {
        return await fn();
      } catch (err) {
        if (!isOutage(err) || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** n, 2_000)).unref());
      }
    }
  });
}

/**
 * The call directory on etcd, for a cluster across machines: four keys per call, no lease (a
 * call outlives the node running it), laid out as etcd-directory-layout.ts says — compact
 * keys and a binary value since issue 12, and the JSON layout nodes wrote before, still read
 * (a rolling upgrade leaves calls in both; each call stays in the layout it was claimed in).
 * Every write is an optimistic transaction on the mod revisions it read, retried when another
 * node won the race, so a claim over both users is atomic cluster-wide; a claim compares the
 * users' pointers in both layouts. Written at call start, phase changes and end only (a write
 * that would store the same bytes is skipped), never on the signaling hot path; a release is
 * one transaction while both users still point at the call. Phase changes and releases keep
 * retrying through an etcd outage (up to a minute), a claim for a second (at once when the
 * breaker is open); everything else fails at once. An outage surfaces as an `unavailable`
 * DomainError.
 */
export function createEtcdCallDirectory(options: EtcdCallDirectoryOptions): CallDirectory {
  const client = new Etcd3({
    hosts: options.endpoints.map((e) => `http://${e}`),
    faultHandling: {
      host: () =>
        circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 1_000, breaker: new ConsecutiveBreaker(3) }),
    },
  });
  const prefix = options.keyPrefix ?? "/calldrop/";
  const compact = compactLayout(prefix);
  const legacy = legacyLayout(prefix);
  const layouts = [compact, legacy];
  const writing = options.writeLayout === "legacy" ? legacy : compact;

  /** A call as stored: its layout, entry, raw value and mod revision. */
  interface Located {
    readonly layout: DirectoryLayout;
    readonly live: LiveCall;
    readonly value: Buffer;
    readonly revision: string;
  }
  const parse = (kv: IKeyValue, callId: string): LiveCall => {
    const { ownerNodeId, state } = decodeStoredCall(kv.value, callId);
    return { callId: state.call.callId, ownerNodeId, state };
  };
  /** One key with its mod revision (0 when absent). */
  const read = async (key: Buffer) => {
    const kv = (await client.get(key).exec()).kvs[0];
    return { key, kv, revision: kv ? String(kv.mod_revision) : "0" };
  };
  const inLayout = async (layout: DirectoryLayout, callId: string): Promise<Located | undefined> => {
    const { kv, revision } = await read(layout.callKey(callId));
    return kv && { layout, live: parse(kv, callId), value: kv.value, revision };
  };
  /** The call in whichever layout holds it (the compact one first). */
  const locate = async (callId: string): Promise<Located | undefined> => {
    for (const layout of layouts) {
      if (!layout.holds(callId)) continue;
      const found = await inLayout(layout, callId);
      if (found) return found;
    }
    return undefined;
  };
  const involves = (live: LiveCall, userId: string) =>
    live.state.call.caller.userId === userId || live.state.call.calleeUserId === userId;
  /**
   * The user's pointers in both layouts, first and second (§14 "Call waiting"), for a claim's
   * comparisons, and the calls they point to.
   */
  const pointersOf = (userId: string) =>
    Promise.all(
      layouts.flatMap((layout) =>
        [layout.userKey(userId), layout.waitingKey(userId)].map(async (key) => {
          const pointer = await read(key);
          const found = pointer.kv && (await inLayout(layout, layout.callIdOfPointer(pointer.kv.value)));
          const live = found && involves(found.live, userId) ? found.live : undefined;
          return { key: pointer.key, revision: pointer.revision, live };
        }),
      ),
    );
  type Pointers = Awaited<ReturnType<typeof pointersOf>>;
  const callsOf = (pointers: Pointers) => [
    ...new Map(pointers.flatMap((p) => (p.live ? [[p.live.callId, p.live] as const] : []))).values(),
  ];
  /** Where a new call of `userId` goes in `layout`: the first pointer, unless it holds a call keeping them busy. */
  const slotFor = (layout: DirectoryLayout, userId: string, pointers: Pointers) => {
    const first = layout.userKey(userId);
    const taken = pointers.find((p) => p.key.equals(first))?.live;
    return taken && keepsBusy(taken.state) ? layout.waitingKey(userId) : first;
  };
  const retrying = async <T>(what: string, attempt: () => Promise<T | undefined>): Promise<T> => {
    for (let n = 0; n < MAX_ATTEMPTS; n++) {
      const result = await attempt();
      if (result !== undefined) return result;
    }
    throw new Error(`call directory: ${what} kept losing races`);
  };
  /** A transaction comparing every `[key, revision]` pair's mod revision. */
  const unchanged = (pairs: readonly { key: Buffer; revision: string }[]): ComparatorBuilder => {
    const [first, ...rest] = pairs;
    if (!first) throw new Error("call directory: a transaction needs a comparison");
    return rest.reduce(
      (txn, p) => txn.and(p.key, "Mod", "==", p.revision),
      client.if(first.key, "Mod", "==", first.revision),
    );
  };
  /** Up to `limit` calls of one layout after `after` in call id order. */
  const callsAfter = async (layout: DirectoryLayout, after: string, limit: number): Promise<LiveCall[]> => {
    const page = (from: Buffer) =>
      client.getAll().inRange(new Range(from, layout.calls.end)).sort("Key", "Ascend").limit(limit).exec();
    const toLive = (kvs: IKeyValue[]) => kvs.map((kv) => parse(kv, layout.callIdOfCallKey(kv.key)));
    if (after === "" || layout.holds(after)) return toLive((await page(layout.callsAfter(after))).kvs);
    // A compact layout and an id it cannot hold (not a UUID): filter its calls from the start.
    const found: LiveCall[] = [];
    for (let from = layout.calls.start; found.length < limit; ) {
      const { kvs } = await page(from);
      found.push(...toLive(kvs).filter((c) => c.callId > after));
      const last = kvs.at(-1);
      if (!last || kvs.length < limit) break;
      from = Buffer.concat([last.key, Buffer.from([0])]);
    }
    return found.slice(0, limit);
  };

  return {
    claim(state, ownerNodeId) {
      const { call } = state;
      const layout = writing.holds(call.callId) ? writing : legacy;
      return claimGuarded(() =>
        retrying<ClaimResult>("claim", async () => {
          const [callerPointers, calleePointers] = await Promise.all([
            pointersOf(call.caller.userId),
            pointersOf(call.calleeUserId),
          ]);
          const conflict = claimConflict(state, callsOf(callerPointers), callsOf(calleePointers));
          if (conflict) return { ok: false, ...conflict };
          const res = await unchanged([...callerPointers, ...calleePointers])
            .and(layout.callKey(call.callId), "Create", "==", 0)
            .then(
              client.put(layout.callKey(call.callId)).value(layout.encode({ ownerNodeId, state })),
              client.put(slotFor(layout, call.caller.userId, callerPointers)).value(layout.pointer(call.callId)),
              client.put(slotFor(layout, call.calleeUserId, calleePointers)).value(layout.pointer(call.callId)),
              client.put(layout.ownerKey(ownerNodeId, call.callId)).value(""),
            )
            .commit();
          return res.succeeded ? { ok: true } : undefined;
        }),
      );
    },
    async update(state) {
      await persistently(() =>
        retrying("update", async () => {
          const found = await locate(state.call.callId);
          if (!found) return true;
          const { layout, live, value, revision } = found;
          const next = layout.encode({ ownerNodeId: live.ownerNodeId, state });
          if (next.equals(value)) return true;
          const key = layout.callKey(live.callId);
          const res = await client.if(key, "Mod", "==", revision).then(client.put(key).value(next)).commit();
          return res.succeeded ? true : undefined;
        }),
      );
    },
    release: (callId) =>
      persistently(async () => {
        const found = await locate(callId);
        if (!found) return;
        const { layout, live } = found;
        const { call } = live.state;
        const pointer = layout.pointer(callId);
        const [caller, callee] = [layout.userKey(call.caller.userId), layout.userKey(call.calleeUserId)];
        const entry = [
          client.delete().key(layout.callKey(callId)),
          client.delete().key(layout.ownerKey(live.ownerNodeId, callId)),
        ];
        // Usually both users' first pointers still point at the call: one transaction.
        const both = await client
          .if(caller, "Value", "==", pointer)
          .and(callee, "Value", "==", pointer)
          .and(layout.callKey(callId), "Create", ">", 0)
          .then(client.delete().key(caller), client.delete().key(callee), ...entry)
          .commit();
        if (both.succeeded) return;
        const users = [call.caller.userId, call.calleeUserId];
        for (const user of users.flatMap((u) => [layout.userKey(u), layout.waitingKey(u)])) {
          // Only while the user still points at this call (a new call may have freed them already).
          await client.if(user, "Value", "==", pointer).then(client.delete().key(user)).commit();
        }
        await client
          .if(layout.callKey(callId), "Create", ">", 0)
          .then(...entry)
          .commit();
      }),
    find: (callId) => guarded(async () => (await locate(callId))?.live),
    findByUser: (userId) => guarded(async () => preferred(callsOf(await pointersOf(userId)))),
    callsOfUser: (userId) => guarded(async () => callsOf(await pointersOf(userId))),
    ownedBy: (nodeId, limit) =>
      guarded(async () => {
        const calls: LiveCall[] = [];
        for (const layout of layouts) {
          const keys = await client.getAll().inRange(layout.ownerRange(nodeId)).limit(limit).keyBuffers();
          const found = await Promise.all(keys.map((k) => inLayout(layout, layout.callIdOfOwnerKey(k))));
          for (const f of found) if (f?.live.ownerNodeId === nodeId) calls.push(f.live);
        }
        return calls.slice(0, limit);
      }),
    ownedIds: (nodeId) =>
      guarded(async () => {
        const ids = new Set<string>();
        for (const layout of layouts) {
          const keys = await client.getAll().inRange(layout.ownerRange(nodeId)).keyBuffers();
          for (const k of keys) ids.add(layout.callIdOfOwnerKey(k));
        }
        return ids;
      }),
    list: (after, limit) =>
      guarded(async () => {
        const pages = await Promise.all(layouts.map((layout) => callsAfter(layout, after, limit)));
        return pages
          .flat()
          .sort((a, b) => (a.callId < b.callId ? -1 : 1))
          .slice(0, limit);
      }),
    takeOver(callId, fromNodeId, toNodeId) {
      return guarded(() =>
        retrying("takeOver", async () => {
          const found = await locate(callId);
          if (found?.live.ownerNodeId !== fromNodeId) return false;
          const { layout, live, revision } = found;
          const key = layout.callKey(callId);
          const res = await client
            .if(key, "Mod", "==", revision)
            .then(
              client.put(key).value(layout.encode({ ownerNodeId: toNodeId, state: live.state })),
              client.delete().key(layout.ownerKey(fromNodeId, callId)),
              client.put(layout.ownerKey(toNodeId, callId)).value(""),
            )
            .commit();
          return res.succeeded ? true : undefined;
        }),
      );
    },
    async close() {
      client.close();
    },
  };
}
