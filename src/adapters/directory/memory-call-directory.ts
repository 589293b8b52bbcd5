import type { CallDirectory, LiveCall } from "../../app/ports/call-directory.ts";
import { claimConflict, keepsBusy, preferred } from "../../domain/call-waiting.ts";

/**
 * The single-node call directory: plain maps in this process. Every method runs
 * synchronously inside its promise, so a claim is atomic against any other call.
 */
export function createMemoryCallDirectory(): CallDirectory {
  const calls = new Map<string, LiveCall>();
  /** Each user's live calls (at most two: docs/spec.md §14 "Call waiting"). */
  const byUser = new Map<string, string[]>();
  const ofUser = (userId: string) =>
    (byUser.get(userId) ?? []).flatMap((id) => {
      const live = calls.get(id);
      return live ? [live] : [];
    });
  /** Lists the call for `userId`, dropping the ended calls it replaces. */
  const list = (userId: string, callId: string) => {
    const kept = ofUser(userId).filter((c) => keepsBusy(c.state));
    byUser.set(userId, [...kept.map((c) => c.callId), callId]);
  };

  return {
    async claim(state, ownerNodeId) {
      const { call } = state;
      const conflict = claimConflict(state, ofUser(call.caller.userId), ofUser(call.calleeUserId));
      if (conflict) return { ok: false, ...conflict };
      calls.set(call.callId, { callId: call.callId, ownerNodeId, state });
      list(call.caller.userId, call.callId);
      list(call.calleeUserId, call.callId);
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
        const left = (byUser.get(user) ?? []).filter((id) => id !== callId);
        if (left.length > 0) byUser.set(user, left);
        else byUser.delete(user);
      }
    },
    find: async (callId) => calls.get(callId),
    findByUser: async (userId) => preferred(ofUser(userId)),
    callsOfUser: async (userId) => ofUser(userId),
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
