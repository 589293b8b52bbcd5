/**
 * Post-call ratings as participants give them (docs/spec.md §15 "Post-call rating"): which calls
 * are asked, the checks a rating passes, storing it with the call and counting it.
 */
import { DomainError } from "../domain/errors.ts";
import { checkCallId } from "../domain/limits.ts";
import { checkRating, inRatingSample, type RatingInput, sameRating } from "../domain/rating.ts";
import type { CallRecord, CallSide, CallStore } from "./ports/call-store.ts";
import type { Clock } from "./ports/clock.ts";
import type { RatingMetrics } from "./ports/metrics.ts";

/** Dependencies and policy of the rating service. */
export interface CallRatingDeps {
  readonly store: CallStore;
  readonly clock: Clock;
  readonly metrics: RatingMetrics;
  /** Share of answered calls asked for a rating, 0–1 (config `calls.ratingSampleRate`). */
  readonly sampleRate: number;
}

/** Asks for and takes ratings. */
export interface CallRatings {
  /** Whether the call's participants are asked for a rating: answered, ended and in the sample. */
  requested(record: CallRecord): boolean;
  /**
   * Stores `userId`'s rating of the call and returns the record with it. Refuses bad input
   * (invalid_argument), an unknown call (not_found), a user who was not in it
   * (permission_denied), and a call not answered, not ended or not asked (illegal_transition).
   * A later rating replaces the earlier one; a retry of the same rating writes nothing.
   */
  rate(userId: string, callId: string, input: RatingInput): Promise<CallRecord>;
}

/** Creates the rating service. */
export function createCallRatings(deps: CallRatingDeps): CallRatings {
  const { store, sampleRate } = deps;
  const requested = (r: CallRecord) =>
    r.answeredAtMs !== undefined && r.endedAtMs !== undefined && inRatingSample(r.callId, sampleRate);
  return {
    requested,
    async rate(userId, callId, input) {
      checkCallId(callId);
      const rating = checkRating(input, deps.clock.now());
      const record = await store.get(callId);
      if (!record) throw new DomainError("not_found", "no such call");
      const side: CallSide | undefined =
        record.caller.userId === userId ? "caller" : record.calleeUserId === userId ? "callee" : undefined;
      if (!side) throw new DomainError("permission_denied", "only the call's participants may rate it");
      if (record.endedAtMs === undefined) throw new DomainError("illegal_transition", "the call has not ended yet");
      if (record.answeredAtMs === undefined) {
        throw new DomainError("illegal_transition", "only calls that were answered can be rated");
      }
      if (!requested(record)) throw new DomainError("illegal_transition", "this call was not asked for a rating");
      const previous = side === "caller" ? record.callerRating : record.calleeRating;
      if (previous && sameRating(previous, rating)) return record;
      await store.rate(callId, side, rating);
      // Each rater counts once in the metrics; a replacement only changes the stored rating.
      if (!previous) deps.metrics.rated(rating);
      return side === "caller" ? { ...record, callerRating: rating } : { ...record, calleeRating: rating };
    },
  };
}
