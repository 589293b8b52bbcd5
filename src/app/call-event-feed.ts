/**
 * The call event feed of one Subscribe stream (docs/spec.md §9 "Call events"): reads the member's
 * partitions of the durable event log from the consumer's positions, hands out each event with the
 * positions after it, and a heartbeat with fresh positions when there is nothing to send. All it
 * keeps is those positions, so a consumer resuming on any node from the last positions it got
 * continues exactly where it left off. Anything else that consumes the log (a webhook dispatcher)
 * opens a feed the same way, as a consumer group of its own.
 */
import { type EventPosition, type GroupMember, isBefore, partitionsOf } from "../domain/call-events.ts";
import { DomainError } from "../domain/errors.ts";
import { type CallEventLog, type LoggedCallEvent, occurredAtMs } from "./ports/call-event-log.ts";
import type { Clock } from "./ports/clock.ts";
import type { CallEventMetrics } from "./ports/metrics.ts";

/** What the feed reads and how often. */
export interface CallEventFeedDeps {
  readonly log: CallEventLog;
  readonly clock: Clock;
  readonly metrics: CallEventMetrics;
  /** How long an idle stream waits before it reads the log again. */
  readonly pollIntervalMs: number;
  /** An idle stream sends a heartbeat this often (the first message of a stream is always one). */
  readonly heartbeatIntervalMs: number;
  /** Events read from one partition at a time. */
  readonly pageSize: number;
}

/** One message of a feed: an event, or a heartbeat, with the positions to resume after it. */
export interface FeedItem {
  readonly event?: LoggedCallEvent;
  readonly positions: ReadonlyMap<number, EventPosition>;
}

/** Opens feeds. */
export interface CallEventFeed {
  /**
   * The feed of `member` from `from` (a position for each of its partitions; undefined: from now
   * on), until `signal` aborts. A position missing for one of its partitions is invalid_argument.
   */
  open(
    member: GroupMember,
    from: ReadonlyMap<number, EventPosition> | undefined,
    signal: AbortSignal,
  ): AsyncIterable<FeedItem>;
}

/** Creates the feed factory over the event log. */
export function createCallEventFeed(deps: CallEventFeedDeps): CallEventFeed {
  const { log, clock, metrics } = deps;

  /** Resolves after `ms`, or at once when `signal` aborts. */
  const pause = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const timer = clock.setTimer(ms, done);
      function done() {
        clock.clearTimer(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });

  async function start(member: GroupMember, from: ReadonlyMap<number, EventPosition> | undefined) {
    const partitions = partitionsOf(member);
    if (!from) {
      const head = await log.headPosition();
      return new Map(partitions.map((p) => [p, head]));
    }
    const missing = partitions.find((p) => !from.has(p));
    if (missing !== undefined) {
      throw new DomainError(
        "invalid_argument",
        `cursor has no position for partition ${missing} of member ${member.index} of ${member.count}: after changing member_count, give each member the cursors of all old members joined by "."`,
      );
    }
    return new Map(partitions.map((p) => [p, from.get(p) as EventPosition]));
  }

  return {
    async *open(member, from, signal) {
      const positions = await start(member, from);
      const snapshot = () => new Map(positions);
      metrics.subscribed(member.group, 1);
      try {
        yield { positions: snapshot() };
        let heartbeatAt = clock.now();
        while (!signal.aborted) {
          let more = false;
          for (const [p, after] of positions) {
            const page = await log.readEvents(p, after, deps.pageSize);
            for (const event of page.events) {
              positions.set(p, event.position);
              metrics.streamed(member.group, event.kind, clock.now() - occurredAtMs(event));
              yield { event, positions: snapshot() };
              heartbeatAt = clock.now();
            }
            const at = positions.get(p) as EventPosition;
            if (isBefore(at, page.next)) positions.set(p, page.next);
            more ||= page.events.length >= deps.pageSize;
            if (signal.aborted) return;
          }
          if (more) continue;
          if (clock.now() - heartbeatAt >= deps.heartbeatIntervalMs) {
            yield { positions: snapshot() };
            heartbeatAt = clock.now();
          }
          await pause(deps.pollIntervalMs, signal);
        }
      } finally {
        metrics.subscribed(member.group, -1);
      }
    },
  };
}
