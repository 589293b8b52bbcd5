import type { CallDirectory, LiveCall } from "../../app/ports/call-directory.ts";

/**
 * The single-node call directory: plain maps in this process. Every method runs
 * synchronously inside its promise, so a claim is atomic against any other call.
 */
export function createMemoryCallDirectory(): CallDirectory {
  const calls = new Map<string, LiveCall>();
  const byUser = new Map<string, string>();
  const ofUser = (userId: string) => {
    const callId = byUser.get(userId);
    return callId === undefined ? undefined : calls.get(callId);
  };
  /** The user's live call that keeps them busy (not ended). */
  const busyWith = (userId: string) => {
    const live = ofUser(userId);
    return live?.state.phase === "ended" ? undefined : live;
  };

  return {
    async claim(state, ownerNodeId) {
      const { call } = state;
      const caller = busyWith(call.caller.userId);
      const callee = busyWith(call.calleeUserId);
      if (caller || callee) return { ok: false, ...(caller ? { caller } : {}), ...(callee ? { callee } : {}) };
      calls.set(call.callId, { callId: call.callId, ownerNodeId, state });
      byUser.set(call.caller.userId, call.callId);
      byUser.set(call.calleeUserId, call.callId);
      return { ok: true };
    },
    async update(state) {
      const live = calls.get(state.call.callId);
      if (live) calls.set(live.callId, { ...live, state });
    },
    async release(callId) {
      const live = calls.get(callId);
      if (!live) return;
      calls.delete(callId);
      for (const user of [live.state.call.caller.userId, live.state.call.calleeUserId]) {
        if (byUser.get(user) === callId) byUser.delete(user);
      }
    },
    find: async (callId) => calls.get(callId),
    findByUser: async (userId) => ofUser(userId),
    async ownedBy(nodeId, limit) {
      return [...calls.values()].filter((c) => c.ownerNodeId === nodeId).slice(0, limit);
    },
    async ownedIds(nodeId) {
      return new Set([...calls.values()].filter((c) => c.ownerNodeId === nodeId).map((c) => c.callId));
    },
    async list(after, limit) {
      return [...calls.values()]
        .filter((c) => c.callId > after)
        .sort((a, b) => (a.callId < b.callId ? -1 : 1))
        .slice(0, limit);
    },
    async takeOver(callId, fromNodeId, toNodeId) {
      const live = calls.get(callId);
      if (live?.ownerNodeId !== fromNodeId) return false;
      calls.set(callId, { ...live, ownerNodeId: toNodeId });
      return true;
    },
    async close() {},
  };
}
