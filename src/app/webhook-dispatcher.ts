/**
 * The webhook dispatcher (docs/spec.md §9 "Webhooks"): one more consumer of the durable event
 * log. For every endpoint and partition this node's claims hold, a worker reads the partition
 * through a call event feed (a consumer group named after the endpoint, one member per
 * partition) and delivers its events one at a time, in log order, so a call's `ended` never
 * overtakes its `started`. A failed attempt is retried after an exponential backoff with jitter;
 * the count and the due time are stored with the cursor before the wait, so a restart, or
 * another node taking the partition over, continues the same schedule. After the last attempt,
 * or at once when the receiver refuses the event (4xx other than 408/429), the event is
 * dead-lettered and the worker moves on. Delivery is at least once: an attempt whose answer was
 * lost, or cut off by a crash before the cursor moved, is sent again with the same webhook-id.
 */
import type { Logger } from "pino";
import { type EventPosition, eventPartitionCount, isBefore } from "../domain/call-events.ts";
import { backoffMs, passesFilter, type RetryPolicy } from "../domain/webhooks.ts";
import type { CallEventFeed } from "./call-event-feed.ts";
import { type LoggedCallEvent, occurredAtMs } from "./ports/call-event-log.ts";
import type { Clock } from "./ports/clock.ts";
import type { WebhookMetrics } from "./ports/metrics.ts";
import type { PartitionClaims } from "./ports/partition-claims.ts";
import type { WebhookEndpoint, WebhookSender } from "./ports/webhook-sender.ts";
import type { PendingAttempt, WebhookCursor, WebhookState } from "./ports/webhook-state.ts";

/** What the dispatcher needs. */
export interface WebhookDispatcherDeps {
  readonly endpoints: readonly WebhookEndpoint[];
  /** A feed over the event log (its consumer groups are the endpoints' names). */
  readonly feed: CallEventFeed;
  readonly state: WebhookState;
  readonly sender: WebhookSender;
  readonly claims: PartitionClaims;
  readonly clock: Clock;
  readonly metrics: WebhookMetrics;
  readonly logger: Logger;
  readonly retry: RetryPolicy;
  /** How often the claims are checked for partitions to start or stop delivering. */
  readonly claimCheckIntervalMs: number;
  /** In [0, 1): the backoff's jitter. */
  readonly random: () => number;
}

/** Runs the workers of the partitions this node delivers. */
export interface WebhookDispatcher {
  start(): void;
  /** Stops every worker (a retry waiting keeps its stored schedule) and waits for them. */
  stop(): Promise<void>;
}

interface Worker {
  readonly abort: AbortController;
  readonly done: Promise<void>;
}

/** Creates the dispatcher; nothing runs before `start`. */
export function createWebhookDispatcher(deps: WebhookDispatcherDeps): WebhookDispatcher {
  const { clock, state, logger, metrics } = deps;
  const workers = new Map<string, Worker>();
  let timer: ReturnType<Clock["setTimer"]> | undefined;
  let stopped = false;

  /** Resolves after `ms`, or at once when `signal` aborts. */
  const pause = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const t = clock.setTimer(ms, done);
      function done() {
        clock.clearTimer(t);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });

  /**
   * Delivers `event` (after `before` in its partition), continuing `carried` when it is this
   * event's stored schedule. Resolves with the cursor past it, or undefined when stopped.
   */
  async function deliver(
    endpoint: WebhookEndpoint,
    event: LoggedCallEvent,
    before: EventPosition,
    carried: PendingAttempt | undefined,
    signal: AbortSignal,
  ): Promise<WebhookCursor | undefined> {
    const { partition, eventId } = event;
    let attempts = carried?.eventId === eventId ? carried.attempts : 0;
    let dueAtMs = carried?.eventId === eventId ? carried.nextAttemptAtMs : 0;
    const past: WebhookCursor = { position: event.position };
    for (;;) {
      const wait = dueAtMs - clock.now();
      if (wait > 0) await pause(wait, signal);
      if (signal.aborted) return undefined;
      const result = await deps.sender.send(endpoint, event, signal);
      if (signal.aborted && result.result !== "delivered") return undefined;
      attempts++;
      metrics.attempted(endpoint.name, result);
      if (result.result === "delivered") {
        metrics.delivered(endpoint.name, clock.now() - occurredAtMs(event));
        return past;
      }
      const log = { endpoint: endpoint.name, eventId, partition, attempts, error: result.error };
      const exhausted = attempts >= deps.retry.maxAttempts;
      if (result.result === "rejected" || exhausted) {
        const reason = result.result === "rejected" ? "rejected" : "exhausted";
        await state.deadLetter(
          { endpoint: endpoint.name, eventId, partition, attempts, lastError: result.error, deadAtMs: clock.now() },
          past,
        );
        metrics.deadLettered(endpoint.name, reason);
        logger.error({ ...log, reason }, "webhook dead-lettered");
        return past;
      }
      dueAtMs = clock.now() + backoffMs(deps.retry, attempts, deps.random(), result.retryAfterMs);
      await state.saveCursor(endpoint.name, partition, {
        position: before,
        pending: { eventId, attempts, nextAttemptAtMs: dueAtMs, lastError: result.error },
      });
      logger.warn({ ...log, retryInMs: dueAtMs - clock.now() }, "webhook attempt failed; retrying");
    }
  }

  /** Delivers `partition` of `endpoint` from its stored cursor until `signal` aborts. */
  async function run(endpoint: WebhookEndpoint, partition: number, signal: AbortSignal): Promise<void> {
    const saved = await state.cursor(endpoint.name, partition);
    let carried = saved?.pending;
    let stored = saved?.position;
    const from = saved ? new Map([[partition, saved.position]]) : undefined;
    const member = { group: endpoint.name, index: partition, count: eventPartitionCount };
    let before: EventPosition | undefined;
    for await (const item of deps.feed.open(member, from, signal)) {
      const position = item.positions.get(partition) as EventPosition;
      const event = item.event;
      if (event && passesFilter(endpoint.filter, event.kind, event.call.outcome)) {
        const past = await deliver(endpoint, event, before ?? position, carried, signal);
        if (!past) return;
        carried = undefined;
        await state.saveCursor(endpoint.name, partition, past);
        stored = past.position;
      } else if (!event && (!stored || isBefore(stored, position)) && !carried) {
        // A heartbeat: keep the cursor of a quiet (or filtered) partition fresh, so a restart rereads little.
        await state.saveCursor(endpoint.name, partition, { position });
        stored = position;
      }
      before = position;
    }
  }

  function startWorker(endpoint: WebhookEndpoint, partition: number): Worker {
    const abort = new AbortController();
    metrics.owned(endpoint.name, 1);
    const done = (async () => {
      for (let failures = 0; !abort.signal.aborted; failures++) {
        try {
          await run(endpoint, partition, abort.signal);
        } catch (err) {
          // The store or the log failed: retry the partition from its stored cursor.
          logger.warn({ err, endpoint: endpoint.name, partition }, "webhook worker failed; restarting it");
          await pause(Math.min(500 * 2 ** failures, 30_000), abort.signal);
        }
      }
    })().finally(() => metrics.owned(endpoint.name, -1));
    return { abort, done };
  }

  /** Starts workers for the partitions this node now holds, stops those of partitions it lost. */
  function check() {
    if (stopped) return;
    for (const endpoint of deps.endpoints) {
      for (let p = 0; p < eventPartitionCount; p++) {
        const key = `${endpoint.name}/${p}`;
        const worker = workers.get(key);
        const owns = deps.claims.owns(endpoint.name, p);
        if (owns && !worker) workers.set(key, startWorker(endpoint, p));
        if (!owns && worker) {
          worker.abort.abort();
          workers.delete(key);
        }
      }
    }
    timer = clock.setTimer(deps.claimCheckIntervalMs, check);
  }

  return {
    start: check,
    async stop() {
      stopped = true;
      if (timer) clock.clearTimer(timer);
      for (const w of workers.values()) w.abort.abort();
      await Promise.all([...workers.values()].map((w) => w.done));
      workers.clear();
    },
  };
}
