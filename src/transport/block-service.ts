/** BlockService handlers: the caller manages only their own block list (docs/spec.md §14, §9). */

import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { BlockService } from "../../gen/calldrop/v1/block_pb.js";
import type { Blocking } from "../app/blocking.ts";
import type { BlockedUser } from "../app/ports/block-list.ts";
import { callerOf } from "./signal-service.ts";

const toProto = (b: BlockedUser) => ({ userId: b.userId, blockedAt: timestampFromMs(b.blockedAtMs) });

/** Creates the BlockService implementation; the user is the authenticated caller (`callerOf`). */
export function createBlockService(
  blocking: Blocking,
  userOf: (ctx: HandlerContext) => string = (ctx) => callerOf(ctx).userId,
): ServiceImpl<typeof BlockService> {
  return {
    async blockUser(req, ctx) {
      return { blocked: toProto(await blocking.block(userOf(ctx), req.userId)) };
    },
    async unblockUser(req, ctx) {
      return { removed: await blocking.unblock(userOf(ctx), req.userId) };
    },
    async listBlockedUsers(_req, ctx) {
      return { users: (await blocking.list(userOf(ctx))).map(toProto) };
    },
  };
}
