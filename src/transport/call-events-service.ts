/**
 * CallEventsService handlers (docs/spec.md §9 "Call events"): a service token with
 * `calls.events:read` (checked by the auth interceptor, scopes.ts) subscribes a member of a
 * configured consumer group to its partitions of the event log. The stream ends when the client
 * leaves, with `unauthenticated` when the token expires and `unavailable` at the maximum
 * connection age (the consumer resumes from its cursor, on any node).
 */
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { CallEventsService } from "../../gen/calldrop/internal/v1/events_pb.js";
import type { CallEventFeed } from "../app/call-event-feed.ts";
import type { Clock } from "../app/ports/clock.ts";
import { callEventToProto } from "../codec/call-event-mapping.ts";
import { decodeEventCursor, encodeEventCursor } from "../codec/event-cursor.ts";
import { checkGroupMember, type EventPosition } from "../domain/call-events.ts";
import { DomainError } from "../domain/errors.ts";
import { type ServiceIdentity, serviceKey } from "./auth.ts";

/** What the handlers need. */
export interface CallEventsServiceDeps {
  readonly feed: CallEventFeed;
  readonly clock: Clock;
  /** The consumer groups a Subscribe may name (config `events.consumerGroups`). */
  readonly groups: readonly string[];
  readonly maxConnectionAgeMs: number;
  readonly logger: Logger;
}

function serviceOf(ctx: HandlerContext): ServiceIdentity {
  const service = ctx.values.get(serviceKey);
  if (!service) throw new DomainError("unauthenticated", "no service identity");
  return service;
}

/** Creates the CallEventsService implementation. */
export function createCallEventsService(deps: CallEventsServiceDeps): ServiceImpl<typeof CallEventsService> {
  const { feed, clock, groups } = deps;
  return {
    async *subscribe(req, ctx) {
      const { service, expiresAtMs } = serviceOf(ctx);
      if (!groups.includes(req.group)) {
        throw new DomainError(
          "invalid_argument",
          `unknown consumer group ${JSON.stringify(req.group.slice(0, 64))}; this server has: ${groups.join(", ")}`,
        );
      }
      const member = checkGroupMember(req.group, req.memberIndex, req.memberCount);
      let from: ReadonlyMap<number, EventPosition> | undefined;
      if (req.cursor !== "") {
        const cursor = decodeEventCursor(req.cursor);
        if (cursor.group !== req.group) {
          throw new DomainError("invalid_argument", `cursor is of another consumer group than ${req.group}`);
        }
        from = cursor.positions;
      }
      const stop = new AbortController();
      let ended: DomainError | undefined;
      const end = (error?: DomainError) => {
        ended ??= error;
        stop.abort();
      };
      const onAbort = () => end();
      ctx.signal.addEventListener("abort", onAbort);
      if (ctx.signal.aborted) end();
      const expiry = clock.setTimer(expiresAtMs - clock.now(), () =>
        end(new DomainError("unauthenticated", "token expired; subscribe again with a fresh token and the cursor")),
      );
      // Jitter spreads the resubscriptions after a deploy.
      const ageMs = deps.maxConnectionAgeMs * (0.9 + Math.random() * 0.2);
      const maxAge = clock.setTimer(ageMs, () =>
        end(new DomainError("unavailable", "max connection age; subscribe again with the cursor")),
      );
      deps.logger.info({ service, group: member.group, member: member.index, of: member.count }, "events subscribed");
      try {
        for await (const item of feed.open(member, from, stop.signal)) {
          const cursor = encodeEventCursor(member.group, item.positions);
          yield item.event ? { event: callEventToProto(item.event), cursor } : { cursor };
        }
        if (ended) throw ended;
      } finally {
        clock.clearTimer(expiry);
        clock.clearTimer(maxAge);
        ctx.signal.removeEventListener("abort", onAbort);
      }
    },
  };
}
