import type { CallEnd, CallInfo, Outcome, PathType } from "../../domain/call-types.ts";
import type { QualitySummary } from "../../domain/quality.ts";
import type { CallRating } from "../../domain/rating.ts";
import type { SampleWindow, UserSample } from "../../domain/sample-rollup.ts";
import type { CallEventLog } from "./call-event-log.ts";

/** One call as stored in the history (docs/spec.md §7). */
export interface CallRecord extends CallInfo {
  readonly answeredDeviceId?: string;
  readonly answeredAtMs?: number;
  readonly endedAtMs?: number;
  readonly outcome?: Outcome;
  readonly endReason?: CallEnd["reason"];
  readonly path?: PathType;
  readonly setupMs?: number;
  readonly quality?: QualitySummary;
  /** Each participant's post-call rating (docs/spec.md §15), once given. */
  readonly callerRating?: CallRating;
  readonly calleeRating?: CallRating;
}

/** Which participant of a call. */
export type CallSide = "caller" | "callee";

/** A page request over one user's history, newest first. */
export interface HistoryQuery {
  readonly userId: string;
  /** 1–100. */
  readonly limit: number;
  /** Opaque cursor from a previous page; absent for the first. */
  readonly cursor?: string;
  /** Only calls this user missed as the callee. */
  readonly missedOnly: boolean;
}

/** One page of history. */
export interface HistoryPage {
  readonly calls: readonly CallRecord[];
  /** Absent on the last page. */
  readonly nextCursor?: string;
}

/**
 * The call history store. Every write is idempotent: a retried write never
 * duplicates a call, and a call's outcome is set at most once. Writes that change a call
 * also append its lifecycle event to the event log the store reads back (CallEventLog).
 */
export interface CallStore extends CallEventLog {
  /** Records a call that started ringing (no-op when the call is already recorded). */
  recordStart(call: CallInfo): Promise<void>;
  /** Records the answer (no-op when already answered or ended). */
  recordAnswer(callId: string, deviceId: string, answeredAtMs: number): Promise<void>;
  /**
   * Sets the call's final outcome if it has none yet (creating the record when
   * its start was never written). Returns true when this call set it, false when
   * an outcome was already recorded (nothing changes) or when the store cannot tell
   * yet: a store that queues the write for later reports it through `DeferredOutcomes`.
   */
  finalize(call: CallInfo, end: CallEnd, quality?: QualitySummary): Promise<boolean>;
  /**
   * Stores `side`'s rating of a recorded call, replacing an earlier one (idempotent: a retry
   * stores the same). The caller checks the call exists; the store does not.
   */
  rate(callId: string, side: CallSide, rating: CallRating): Promise<void>;
  /** The call, or undefined. */
  get(callId: string): Promise<CallRecord | undefined>;
  /** One page of a user's calls (as caller or callee), newest first. */
  listForUser(query: HistoryQuery): Promise<HistoryPage>;
  /**
   * Stores one window of a call's raw quality samples as one row (docs/spec.md §7 "Sample windows");
   * a retry with the same key stores the same row.
   */
  addSampleWindow(callId: string, window: SampleWindow): Promise<void>;
  /** The raw samples of a call, its windows expanded, oldest first; one per participant and time. */
  listSamples(callId: string): Promise<readonly UserSample[]>;
  /**
   * Calls still ringing (not answered, no outcome) whose ring deadline is before `beforeMs`,
   * oldest deadline first (for the takeover sweep). Answered calls are not listed: at scale
   * they are every call in progress, and the directory's orphan scan covers them.
   */
  listOverdueRinging(beforeMs: number, limit: number): Promise<readonly CallRecord[]>;
  /** Releases connections/files. */
  close(): Promise<void>;
}

/** Called with a call whose outcome a queued finalize set later. */
export type OutcomeListener = (call: CallInfo, end: CallEnd) => void;

/**
 * A store that may set an outcome after `finalize` answered false (a durable outbox replaying a
 * write queued while the real store was unreachable, in this process or an earlier one).
 */
export interface DeferredOutcomes {
  /** Reports each outcome a replayed finalize set, once (those set before the first listener are kept for it). */
  onOutcomeSet(listener: OutcomeListener): () => void;
}
