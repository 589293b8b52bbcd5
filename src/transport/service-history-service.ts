/**
 * ServiceHistoryService handlers: another backend reads any user's history with a service
 * token carrying `history:read` (checked by the auth interceptor, scopes.ts). Every read is
 * logged for audit: which service read whose history, or which call (docs/spec.md §9).
 */
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { ServiceHistoryService } from "../../gen/calldrop/internal/v1/history_pb.js";
import type { CallRatings } from "../app/call-rating.ts";
import type { CallStore } from "../app/ports/call-store.ts";
import { recordToProto } from "../codec/proto-mapping.ts";
import { DomainError } from "../domain/errors.ts";
import { checkCallId, checkUserId } from "../domain/limits.ts";
import { type ServiceIdentity, serviceKey } from "./auth.ts";
import { historyPage } from "./history-service.ts";

function serviceOf(ctx: HandlerContext): ServiceIdentity {
  const service = ctx.values.get(serviceKey);
  if (!service) throw new DomainError("unauthenticated", "no service identity");
  return service;
}

/**
 * Creates the ServiceHistoryService implementation over the call store; `audit` gets one line per
 * read. A service sees both participants' ratings.
 */
export function createServiceHistoryService(
  store: CallStore,
  ratings: CallRatings,
  audit: Logger,
): ServiceImpl<typeof ServiceHistoryService> {
  return {
    async listUserCalls(req, ctx) {
      const { service } = serviceOf(ctx);
      checkUserId(req.userId, "user_id");
      audit.info(
        { audit: "history_read", service, userId: req.userId, missedOnly: req.missedOnly },
        "history read by a service",
      );
      return historyPage(store, ratings, req.userId, req, undefined);
    },
    async getUserCall(req, ctx) {
      const { service } = serviceOf(ctx);
      checkCallId(req.callId);
      audit.info({ audit: "history_read", service, callId: req.callId }, "call read by a service");
      const record = await store.get(req.callId);
      if (!record) throw new DomainError("not_found", "no such call");
      return { call: recordToProto(record, { ratingRequested: ratings.requested(record) }) };
    },
  };
}
