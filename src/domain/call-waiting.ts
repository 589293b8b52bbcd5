/**
 * Who may be rung (docs/spec.md §3 busy and glare, §14 "Call waiting"): the rule every call
 * directory applies inside its atomic claim, over the live calls each user is in. Pure.
 */
import type { CallState } from "./call-types.ts";

type Ringing = Extract<CallState, { phase: "ringing" }>;

/** Whether a live call keeps its users busy: it has not ended. */
export const keepsBusy = (state: CallState) => state.phase !== "ended";

/** Whether a call has been answered (and not ended): what a waiting call may ring beside. */
export const isAnsweredCall = (state: CallState) => state.phase === "connecting" || state.phase === "connected";

/**
 * The calls in the way of `claim`, or undefined when it may be registered. An ordinary call
 * needs both users free. A waiting call needs a free caller and a callee in exactly one live
 * call, answered: so a user is in at most two calls, a third is busy, and a callee being rung
 * (possibly by the caller: glare) gets no waiting call. A waiting claim against a callee with no
 * live call names no callee (the start then goes ahead as an ordinary call).
 */
export function claimConflict<T extends { readonly state: CallState }>(
  claim: Ringing,
  callerCalls: readonly T[],
  calleeCalls: readonly T[],
): { readonly caller?: T; readonly callee?: T } | undefined {
  const caller = firstBusy(callerCalls);
  const busyCallee = calleeCalls.filter((c) => keepsBusy(c.state));
  const callee = preferred(busyCallee);
  const waitingFits =
    claim.call.waiting === true && busyCallee.length === 1 && isAnsweredCall(busyCallee[0]?.state as CallState);
  if (!caller && (busyCallee.length === 0 ? claim.call.waiting !== true : waitingFits)) return undefined;
  return { ...(caller ? { caller } : {}), ...(callee ? { callee } : {}) };
}

/** The user's call to report of several: one that keeps them busy first, an answered one before a ringing one. */
export function preferred<T extends { readonly state: CallState }>(calls: readonly T[]): T | undefined {
  const rank = (s: CallState) => (isAnsweredCall(s) ? 0 : keepsBusy(s) ? 1 : 2);
  return [...calls].sort((a, b) => rank(a.state) - rank(b.state))[0];
}

function firstBusy<T extends { readonly state: CallState }>(calls: readonly T[]): T | undefined {
  return preferred(calls.filter((c) => keepsBusy(c.state)));
}
