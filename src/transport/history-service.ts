/** CallHistoryService handlers: a user reads only their own calls (docs/spec.md §7, §9). */
import type { ServiceImpl } from "@connectrpc/connect";
import type { CallHistoryService } from "../../gen/calldrop/v1/history_pb.js";
import type { CallStore } from "../app/ports/call-store.ts";
import { recordToProto } from "../codec/proto-mapping.ts";
import { DomainError } from "../domain/errors.ts";
import { checkCallId } from "../domain/limits.ts";
import { callerOf } from "./signal-service.ts";

const defaultPageSize = 20;
const maxPageSize = 100;

/** One page of `userId`'s history as the API returns it (shared with the service-facing history). */
export async function historyPage(
  store: CallStore,
  userId: string,
  req: { readonly pageSize: number; readonly pageToken: string; readonly missedOnly: boolean },
) {
  if (req.pageSize > maxPageSize) throw new DomainError("invalid_argument", `page_size must be at most ${maxPageSize}`);
  const page = await store.listForUser({
    userId,
    limit: req.pageSize || defaultPageSize,
    missedOnly: req.missedOnly,
    ...(req.pageToken ? { cursor: req.pageToken } : {}),
  });
  return { calls: page.calls.map(recordToProto), nextPageToken: page.nextCursor ?? "" };
}

/** Creates the CallHistoryService implementation over the call store. */
export function createHistoryService(store: CallStore): ServiceImpl<typeof CallHistoryService> {
  return {
    listCalls: (req, ctx) => historyPage(store, callerOf(ctx).userId, req),
    async getCall(req, ctx) {
      const { userId } = callerOf(ctx);
      checkCallId(req.callId);
      const record = await store.get(req.callId);
      // Someone else's call is reported as absent, so call ids reveal nothing.
      if (!record || (record.caller.userId !== userId && record.calleeUserId !== userId)) {
        throw new DomainError("not_found", "no such call in your history");
      }
      return { call: recordToProto(record) };
    },
  };
}
