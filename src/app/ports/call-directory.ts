import type { CallState } from "../../domain/call-types.ts";

/** A call in progress as the whole cluster sees it. */
export interface LiveCall {
  readonly callId: string;
  /** The node running the call (holding its state in memory and its timers). */
  readonly ownerNodeId: string;
  /**
   * The call's state as of its last phase change (ringing → connecting → connected →
   * ended), enough for another node to take the call over when the owner dies. An ended
   * call stays listed until its outcome is durable in the store, but no longer makes
   * its users busy.
   */
  readonly state: CallState;
}

/** The outcome of a claim. */
export type ClaimResult =
  | { readonly ok: true }
  /** Nothing was written: `caller`/`callee` is the live call that user is already in. */
  | { readonly ok: false; readonly caller?: LiveCall; readonly callee?: LiveCall };

/**
 * The cluster-wide directory of calls in progress (docs/spec.md §3 busy and glare,
 * §10 ownership): who is in which call, which node runs it, and the state another
 * node needs to take it over. Written on call start, on phase changes and at the
 * end; never on the signaling hot path.
 *
 * Busy and glare are decided by `claim`, which is atomic across both users: of two
 * racing starts involving the same user exactly one succeeds, on any node. (On a
 * store without multi-key transactions, e.g. Cassandra, claim the two users with
 * lightweight transactions in user-id order and undo the first when the second
 * fails; the fixed order makes A→B racing B→A conflict on the same first row.)
 *
 * A directory that cannot be reached fails with an `unavailable` DomainError (a phase
 * change or release after retrying for a while); the call service runs on without it
 * (directory-outage.ts).
 */
export interface CallDirectory {
  /**
   * Registers `state`'s call as the live call of its caller and callee, run by
   * `ownerNodeId`, unless either user already has a live call that has not ended (then
   * nothing is written).
   *
   * A waiting call (`state.call.waiting`, docs/spec.md §14 "Call waiting") is the one exception,
   * decided in the same atomic step: it is registered when its caller has no live call and its
   * callee has exactly one, which has been answered. So a user is in at most two live calls — one
   * answered and one waiting — a third call is busy, and a ringing call never gets a waiting one
   * (glare is decided as before). A waiting claim refused while the callee has no live call at all
   * says so by naming no callee: the start goes ahead as an ordinary call.
   */
  claim(state: Extract<CallState, { phase: "ringing" }>, ownerNodeId: string): Promise<ClaimResult>;
  /** Stores the call's state after a phase change (no-op when the call is not live). */
  update(state: LiveCall["state"]): Promise<void>;
  /** Forgets a call that ended; its users are free again. */
  release(callId: string): Promise<void>;
  /** The live call, or undefined. */
  find(callId: string): Promise<LiveCall | undefined>;
  /**
   * The live call a user is in (as caller or callee; possibly ended), or undefined. Of two (a
   * waiting call, §14), one that has not ended first, an answered one before a ringing one.
   */
  findByUser(userId: string): Promise<LiveCall | undefined>;
  /** Every live call a user is in (at most two: an answered one and a waiting one; possibly ended). */
  callsOfUser(userId: string): Promise<readonly LiveCall[]>;
  /** Up to `limit` live calls run by `nodeId`. */
  ownedBy(nodeId: string, limit: number): Promise<readonly LiveCall[]>;
  /**
   * The ids of every live call run by `nodeId`, read from the owner index alone (no call read):
   * what fencing compares its running calls against.
   */
  ownedIds(nodeId: string): Promise<ReadonlySet<string>>;
  /** A page of all live calls in call id order, after `afterCallId` (for background orphan scans). */
  list(afterCallId: string, limit: number): Promise<readonly LiveCall[]>;
  /**
   * Moves the call to `toNodeId` if `fromNodeId` still runs it; true when this call
   * moved it (of several nodes racing to take a call over, exactly one wins).
   */
  takeOver(callId: string, fromNodeId: string, toNodeId: string): Promise<boolean>;
  /** Releases connections/files. */
  close(): Promise<void>;
}
