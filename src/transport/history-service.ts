/** CallHistoryService handlers: a user reads only their own calls and rates them (docs/spec.md §7, §9, §15). */
import type { ServiceImpl } from "@connectrpc/connect";
import type { CallHistoryService } from "../../gen/calldrop/v1/history_pb.js";
import type { CallRatings } from "../app/call-rating.ts";
import type { CallRecord, CallStore } from "../app/ports/call-store.ts";
import { ratingReasonsFromPb, recordToProto } from "../codec/proto-mapping.ts";
import { DomainError } from "../domain/errors.ts";
import { checkCallId } from "../domain/limits.ts";
import { callerOf } from "./signal-service.ts";

const defaultPageSize = 20;
const maxPageSize = 100;

/**
 * One page of `userId`'s history as the API returns it (shared with the service-facing history,
 * which passes no reader: it sees both participants' ratings).
 */
export async function historyPage(
  store: CallStore,
  ratings: CallRatings,
  userId: string,
  req: { readonly pageSize: number; readonly pageToken: string; readonly missedOnly: boolean },
  readerUserId: string | undefined = userId,
) {
  if (req.pageSize > maxPageSize) throw new DomainError("invalid_argument", `page_size must be at most ${maxPageSize}`);
  const page = await store.listForUser({
    userId,
    limit: req.pageSize || defaultPageSize,
    missedOnly: req.missedOnly,
    ...(req.pageToken ? { cursor: req.pageToken } : {}),
  });
  const calls = page.calls.map((r) =>
    recordToProto(r, { ratingRequested: ratings.requested(r), ...(readerUserId ? { readerUserId } : {}) }),
  );
  return { calls, nextPageToken: page.nextCursor ?? "" };
}

/** Creates the CallHistoryService implementation over the call store and the ratings. */
export function createHistoryService(store: CallStore, ratings: CallRatings): ServiceImpl<typeof CallHistoryService> {
  const shown = (r: CallRecord, readerUserId: string) =>
    recordToProto(r, { ratingRequested: ratings.requested(r), readerUserId });
  return {
    listCalls: (req, ctx) => historyPage(store, ratings, callerOf(ctx).userId, req),
    async getCall(req, ctx) {
      const { userId } = callerOf(ctx);
      checkCallId(req.callId);
      const record = await store.get(req.callId);
      // Someone else's call is reported as absent, so call ids reveal nothing.
      if (!record || (record.caller.userId !== userId && record.calleeUserId !== userId)) {
        throw new DomainError("not_found", "no such call in your history");
      }
      return { call: shown(record, userId) };
    },
    async rateCall(req, ctx) {
      const { userId } = callerOf(ctx);
      const input = { score: req.score, reasons: ratingReasonsFromPb(req.reasons), comment: req.comment };
      return { call: shown(await ratings.rate(userId, req.callId, input), userId) };
    },
  };
}
