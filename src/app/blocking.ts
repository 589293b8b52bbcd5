/**
 * Block lists as users manage them (BlockService, docs/spec.md §14 "Blocking"): validation,
 * a per-user limit, only ever the calling user's own list; and the check a call start makes.
 */

import type { Logger } from "pino";
import { DomainError } from "../domain/errors.ts";
import { checkUserId } from "../domain/limits.ts";
import type { BlockedUser, BlockList } from "./ports/block-list.ts";
import type { Clock } from "./ports/clock.ts";

/** Dependencies and policy of the block-list service. */
export interface BlockingDeps {
  readonly list: BlockList;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Users one user may block (default 1000). */
  readonly maxBlockedPerUser?: number;
}

/** Block, unblock and list the caller's own block list; and whether a call may ring. */
export interface Blocking {
  block(userId: string, blockedUserId: string): Promise<BlockedUser>;
  unblock(userId: string, blockedUserId: string): Promise<boolean>;
  list(userId: string): Promise<readonly BlockedUser[]>;
  /**
   * Whether `calleeUserId` blocked `callerUserId`. A list that cannot be read (the store is down)
   * counts as not blocked: calls keep working through a store outage, and blocking is best effort
   * for its duration.
   */
  blocks(calleeUserId: string, callerUserId: string): Promise<boolean>;
}

/** Creates the block-list service. */
export function createBlocking(deps: BlockingDeps): Blocking {
  const max = deps.maxBlockedPerUser ?? 1000;
  return {
    async block(userId, blockedUserId) {
      checkUserId(blockedUserId);
      if (blockedUserId === userId) throw new DomainError("invalid_argument", "you cannot block yourself");
      if (!(await deps.list.isBlocked(userId, blockedUserId)) && (await deps.list.list(userId)).length >= max) {
        throw new DomainError("limit_exceeded", `at most ${max} blocked users`);
      }
      return deps.list.block(userId, blockedUserId, deps.clock.now());
    },
    async unblock(userId, blockedUserId) {
      checkUserId(blockedUserId);
      return deps.list.unblock(userId, blockedUserId);
    },
    list: (userId) => deps.list.list(userId),
    async blocks(calleeUserId, callerUserId) {
      try {
        return await deps.list.isBlocked(calleeUserId, callerUserId);
      } catch (err) {
        if (!(err instanceof DomainError && err.code === "unavailable")) throw err;
        deps.logger.warn({ err, calleeUserId }, "block list unavailable: the call rings as if not blocked");
        return false;
      }
    },
  };
}
