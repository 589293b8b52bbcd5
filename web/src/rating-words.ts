/**
 * A call's post-call rating as history shows it (docs/spec.md §15): "You rated 4/5". The server
 * sends the reader only their own rating, on their side of the call.
 */
import type { CallRating, CallRecord } from "../../gen/calldrop/v1/call_pb.js";

/** `me`'s rating of the call, or undefined when they gave none. */
export function myRating(call: CallRecord, me: string): CallRating | undefined {
  const rating = call.calleeUserId === me ? call.calleeRating : call.callerRating;
  return rating && rating.score > 0 ? rating : undefined;
}

/** "You rated 4/5", or undefined when `me` gave no rating. */
export function ratingInWords(call: CallRecord, me: string): string | undefined {
  const rating = myRating(call, me);
  return rating && `You rated ${rating.score}/5`;
}
