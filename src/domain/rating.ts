/**
 * Post-call ratings (docs/spec.md §15 "Post-call rating"): a 1–5 score with reasons from a closed
 * set and an optional short comment, and which calls are asked for one, decided from the call id
 * alone so every node and both clients agree without talking to each other.
 */
import { DomainError } from "./errors.ts";
import { fnv1a } from "./hash.ts";

/** Why a call was not perfect; a closed set, so metrics can count each. */
export const ratingReasons = ["audio_choppy", "video_frozen", "echo", "could_not_hear", "dropped", "other"] as const;

/** One reason. */
export type RatingReason = (typeof ratingReasons)[number];

/** Longest comment accepted, in characters (UTF-16 code units, as the web form counts). */
export const maxRatingCommentChars = 500;

/** One participant's rating of a call. */
export interface CallRating {
  /** 1 (bad) to 5 (excellent). */
  readonly score: number;
  /** Distinct, in the order of `ratingReasons`. */
  readonly reasons: readonly RatingReason[];
  /** Absent when none was given. */
  readonly comment?: string;
  readonly ratedAtMs: number;
}

/** What a participant sends; validated by `checkRating`. */
export interface RatingInput {
  readonly score: number;
  readonly reasons: readonly string[];
  readonly comment: string;
}

/**
 * The rating `input` makes at `nowMs`: reasons deduplicated and ordered, the comment trimmed
 * (empty = none). Throws invalid_argument for a score outside 1–5, an unknown reason or a comment
 * over `maxRatingCommentChars`.
 */
export function checkRating(input: RatingInput, nowMs: number): CallRating {
  if (!Number.isInteger(input.score) || input.score < 1 || input.score > 5) {
    throw new DomainError("invalid_argument", "score must be a whole number from 1 to 5");
  }
  const unknown = input.reasons.find((r) => !(ratingReasons as readonly string[]).includes(r));
  if (unknown !== undefined) {
    throw new DomainError("invalid_argument", `unknown reason; use one of ${ratingReasons.join(", ")}`);
  }
  const comment = input.comment.trim();
  if (comment.length > maxRatingCommentChars) {
    throw new DomainError("invalid_argument", `comment must be at most ${maxRatingCommentChars} characters`);
  }
  return {
    score: input.score,
    reasons: ratingReasons.filter((r) => input.reasons.includes(r)),
    ...(comment ? { comment } : {}),
    ratedAtMs: nowMs,
  };
}

/** True when two ratings say the same (a retried request), whenever they were made. */
export function sameRating(a: CallRating, b: CallRating): boolean {
  return a.score === b.score && a.comment === b.comment && a.reasons.join() === b.reasons.join();
}

/**
 * Whether the call with this id is in the sample asked for a rating at `sampleRate` (0–1): its
 * FNV-1a hash, as a fraction of 2^32, is below the rate. Raising the rate only adds calls to the
 * sample, lowering it only removes some.
 */
export function inRatingSample(callId: string, sampleRate: number): boolean {
  return fnv1a(callId) / 2 ** 32 < sampleRate;
}
