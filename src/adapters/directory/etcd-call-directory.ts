import { BrokenCircuitError, ConsecutiveBreaker, circuitBreaker, handleWhen } from "cockatiel";
import { Etcd3, type IKeyValue, isRecoverableError, Range } from "etcd3";
import type { CallDirectory, ClaimResult, LiveCall } from "../../app/ports/call-directory.ts";
import { DomainError } from "../../domain/errors.ts";

/** Options of the etcd call directory. */
export interface EtcdCallDirectoryOptions {
  /** etcd client endpoints, host:port (plain http). */
  readonly endpoints: readonly string[];
  /** Key prefix, ending with "/". Default "/calldrop/". */
  readonly keyPrefix?: string;
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
 * The call directory on etcd, for a cluster across machines. Keys (no lease: a call
 * outlives the node running it):
 *   <prefix>calls/<callId>               → {"ownerNodeId", "state"}
 *   <prefix>call-users/<userId>          → callId
 *   <prefix>call-owners/<nodeId>/<callId> → "" (index for takeovers)
 * Every write is an optimistic transaction on the mod revisions it read, retried when
 * another node won the race, so a claim over both users is atomic cluster-wide. Written
 * at call start, phase changes and end only; never on the signaling hot path. Phase
 * changes and releases keep retrying through an etcd outage (up to a minute), a claim for a
 * second (at once when the breaker is open); everything else fails at once. An outage
 * surfaces as an `unavailable` DomainError.
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
  const callKey = (callId: string) => `${prefix}calls/${callId}`;
  const userKey = (userId: string) => `${prefix}call-users/${userId}`;
  const ownerKey = (nodeId: string, callId: string) => `${prefix}call-owners/${nodeId}/${callId}`;

  const parse = (kv: IKeyValue): LiveCall => {
    const { ownerNodeId, state } = JSON.parse(kv.value.toString()) as Omit<LiveCall, "callId">;
    return { callId: state.call.callId, ownerNodeId, state };
  };
  const encode = (live: LiveCall) => JSON.stringify({ ownerNodeId: live.ownerNodeId, state: live.state });
  /** One key with its mod revision (0 when absent). */
  const read = async (key: string) => {
    const kv = (await client.get(key).exec()).kvs[0];
    return { kv, revision: kv ? String(kv.mod_revision) : "0" };
  };
  const find = async (callId: string) => {
    const { kv, revision } = await read(callKey(callId));
    return { live: kv ? parse(kv) : undefined, revision };
  };
  /** The user's pointer, and the live call it points to unless that call ended (or is gone). */
  const busyWith = async (userId: string) => {
    const pointer = await read(userKey(userId));
    const live = pointer.kv ? (await find(pointer.kv.value.toString())).live : undefined;
    return { revision: pointer.revision, live: live?.state.phase === "ended" ? undefined : live };
  };
  const retrying = async <T>(what: string, attempt: () => Promise<T | undefined>): Promise<T> => {
    for (let n = 0; n < MAX_ATTEMPTS; n++) {
      const result = await attempt();
      if (result !== undefined) return result;
    }
    throw new Error(`call directory: ${what} kept losing races`);
  };

  return {
    claim(state, ownerNodeId) {
      const { call } = state;
      return claimGuarded(() =>
        retrying<ClaimResult>("claim", async () => {
          const [caller, callee] = await Promise.all([busyWith(call.caller.userId), busyWith(call.calleeUserId)]);
          if (caller.live || callee.live) {
            return {
              ok: false,
              ...(caller.live ? { caller: caller.live } : {}),
              ...(callee.live ? { callee: callee.live } : {}),
            };
          }
          const res = await client
            .if(userKey(call.caller.userId), "Mod", "==", caller.revision)
            .and(userKey(call.calleeUserId), "Mod", "==", callee.revision)
            .and(callKey(call.callId), "Create", "==", 0)
            .then(
              client.put(callKey(call.callId)).value(encode({ callId: call.callId, ownerNodeId, state })),
              client.put(userKey(call.caller.userId)).value(call.callId),
              client.put(userKey(call.calleeUserId)).value(call.callId),
              client.put(ownerKey(ownerNodeId, call.callId)).value(""),
            )
            .commit();
          return res.succeeded ? { ok: true } : undefined;
        }),
      );
    },
    async update(state) {
      const key = callKey(state.call.callId);
      await persistently(() =>
        retrying("update", async () => {
          const { live, revision } = await find(state.call.callId);
          if (!live) return true;
          const res = await client
            .if(key, "Mod", "==", revision)
            .then(client.put(key).value(encode({ ...live, state })))
            .commit();
          return res.succeeded ? true : undefined;
        }),
      );
    },
    release: (callId) =>
      persistently(async () => {
        const { live } = await find(callId);
        if (!live) return;
        const { call } = live.state;
        for (const user of [call.caller.userId, call.calleeUserId]) {
          // Only while the user still points at this call (a new call may have freed them already).
          await client
            .if(userKey(user), "Value", "==", callId)
            .then(client.delete().key(userKey(user)))
            .commit();
        }
        await client
          .if(callKey(callId), "Create", ">", 0)
          .then(client.delete().key(callKey(callId)), client.delete().key(ownerKey(live.ownerNodeId, callId)))
          .commit();
      }),
    find: (callId) => guarded(async () => (await find(callId)).live),
    findByUser: (userId) =>
      guarded(async () => {
        const pointer = await read(userKey(userId));
        return pointer.kv ? (await find(pointer.kv.value.toString())).live : undefined;
      }),
    ownedBy: (nodeId, limit) =>
      guarded(async () => {
        const ids = await client.getAll().prefix(`${prefix}call-owners/${nodeId}/`).limit(limit).keys();
        const calls = await Promise.all(ids.map((k) => find(k.slice(k.lastIndexOf("/") + 1))));
        return calls.flatMap((c) => (c.live?.ownerNodeId === nodeId ? [c.live] : []));
      }),
    list: (after, limit) =>
      guarded(async () => {
        const all = Range.prefix(`${prefix}calls/`);
        const res = await client
          .getAll()
          .inRange(new Range(`${prefix}calls/${after}\u0000`, all.end))
          .sort("Key", "Ascend")
          .limit(limit)
          .exec();
        return res.kvs.map(parse);
      }),
    takeOver(callId, fromNodeId, toNodeId) {
      const key = callKey(callId);
      return guarded(() =>
        retrying("takeOver", async () => {
          const { live, revision } = await find(callId);
          if (live?.ownerNodeId !== fromNodeId) return false;
          const res = await client
            .if(key, "Mod", "==", revision)
            .then(
              client.put(key).value(encode({ ...live, ownerNodeId: toNodeId })),
              client.delete().key(ownerKey(fromNodeId, callId)),
              client.put(ownerKey(toNodeId, callId)).value(""),
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
