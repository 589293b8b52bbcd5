/**
 * Drains the notification outbox into the push channels: claims due rows with a
 * lease, looks up the device's current target, sends, and settles or reschedules
 * each row. At least once: a row is settled only after its channel accepted it, was
 * told the target is gone, rejected it, or it expired. Retries back off
 * exponentially (with jitter) and never run past the row's expiry, so a ring is
 * dropped rather than delivered late.
 */
import type { Logger } from "pino";
import type { Clock, TimerHandle } from "./ports/clock.ts";
import type { NotificationMetrics, NotificationResult } from "./ports/metrics.ts";
import type { NotificationOutbox, OutboxRecord } from "./ports/notification-outbox.ts";
import type { PushRegistry, PushTarget } from "./ports/push-registry.ts";
import { targetAddress } from "./ports/push-registry.ts";
import type { PushMessage, PushSender, SendOutcome } from "./ports/push-sender.ts";

/** The channels this server can deliver through, each sending its own kind of target; a missing one is disabled. */
export type PushSenders = {
  readonly [C in PushTarget["channel"]]?: PushSender<Extract<PushTarget, { channel: C }>>;
};

/** Sends through the target's channel, or undefined when that channel is disabled. */
function sendVia(senders: PushSenders, message: PushMessage, signal: AbortSignal): Promise<SendOutcome> | undefined {
  const sender = senders[message.target.channel] as PushSender | undefined;
  return sender?.send(message, signal);
}

/** Tuning of the dispatcher; every field has a default. */
export interface DispatcherOptions {
  /** Rows claimed per pass (default 64). */
  readonly batchSize?: number;
  /** Sends in flight at once (default 16). */
  readonly concurrency?: number;
  /** A claimed row is due again after this if the process dies mid-send (default 60 000). */
  readonly leaseMs?: number;
  /** First retry delay; doubles per attempt (default 1 000). */
  readonly initialBackoffMs?: number;
  /** Cap of the retry delay (default 300 000). */
  readonly maxBackoffMs?: number;
  /** Look for due rows at least this often, e.g. rows another process enqueued (default 10 000). */
  readonly pollMs?: number;
  /** Settled rows are kept this long so a late duplicate stays deduplicated (default 2 days). */
  readonly retentionMs?: number;
  /** Jitter source in [0, 1) (default Math.random); the retry delay is in [base/2, base). */
  readonly random?: () => number;
}

/** Dependencies of the dispatcher. */
export interface DispatcherDeps {
  readonly outbox: NotificationOutbox;
  readonly registry: PushRegistry;
  readonly senders: PushSenders;
  readonly clock: Clock;
  readonly metrics: NotificationMetrics;
  readonly logger: Pick<Logger, "warn" | "error">;
  readonly options?: DispatcherOptions;
}

/** The running dispatcher. */
export interface NotificationDispatcher {
  /** Starts the loop (idempotent). */
  start(): void;
  /** Asks for a pass now (after an enqueue). */
  kick(): void;
  /** Runs passes until no row is due; resolves with the number of rows handled (for tests). */
  drain(): Promise<number>;
  /** Stops the loop, aborts sends in flight (their rows are released, not lost) and waits for them. */
  close(): Promise<void>;
}

/** Creates a dispatcher; it does nothing until `start()` or `drain()`. */
export function createNotificationDispatcher(deps: DispatcherDeps): NotificationDispatcher {
  const { outbox, registry, senders, clock, metrics, logger } = deps;
  const o = deps.options ?? {};
  const batchSize = o.batchSize ?? 64;
  const concurrency = o.concurrency ?? 16;
  const leaseMs = o.leaseMs ?? 60_000;
  const initialBackoffMs = o.initialBackoffMs ?? 1_000;
  const maxBackoffMs = o.maxBackoffMs ?? 300_000;
  const pollMs = o.pollMs ?? 10_000;
  const retentionMs = o.retentionMs ?? 2 * 86_400_000;
  const random = o.random ?? Math.random;
  const abort = new AbortController();
  let started = false;
  let timer: TimerHandle | undefined;
  let running: Promise<number> | undefined;
  let again = false;
  let lastPurgeMs = 0;

  function backoffMs(attempt: number): number {
    const base = Math.min(maxBackoffMs, initialBackoffMs * 2 ** Math.min(30, attempt - 1));
    return Math.round(base / 2 + (random() * base) / 2);
  }

  async function deliver(row: OutboxRecord): Promise<void> {
    const now = clock.now();
    const drop = async (reason: string) => {
      if (await outbox.settle(row.key, "dropped", now, false, reason)) metrics.count(row.kind, row.channel, "dropped");
    };
    if (now >= row.expiresAtMs) return drop("expired");
    const registration = await registry.get(row.userId, row.deviceId);
    if (!registration) return drop("device unregistered");
    const { target } = registration;
    const message = {
      key: row.key,
      kind: row.kind,
      payload: row.payload,
      urgency: row.urgency,
      topic: row.topic,
      ttlSeconds: Math.max(1, Math.ceil((row.expiresAtMs - now) / 1000)),
    };
    const sending = sendVia(senders, { ...message, target }, abort.signal);
    if (!sending) return drop(`channel ${target.channel} disabled`);
    const outcome = await sending.catch(thrown);
    const channel = target.channel;
    const settle = async (status: NotificationResult, error?: string) => {
      if (await outbox.settle(row.key, status, clock.now(), true, error)) metrics.count(row.kind, channel, status);
    };
    if (abort.signal.aborted && outcome.result === "retry") return outbox.release(row.key, clock.now());
    switch (outcome.result) {
      case "sent":
        return settle("sent");
      case "gone":
        await registry.removeGone(row.userId, row.deviceId, targetAddress(target));
        logger.warn({ deviceId: row.deviceId, channel, error: outcome.error }, "push target gone; unregistered");
        return settle("failed", outcome.error);
      case "rejected":
        logger.warn({ key: row.key, channel, error: outcome.error }, "notification rejected");
        return settle("failed", outcome.error);
      case "retry": {
        const at = clock.now() + Math.max(backoffMs(row.attempts + 1), outcome.retryAfterMs ?? 0);
        if (at < row.expiresAtMs) return outbox.reschedule(row.key, at, outcome.error);
        return settle("dropped", `expired while retrying: ${outcome.error}`);
      }
    }
  }

  async function pass(): Promise<number> {
    let handled = 0;
    for (;;) {
      const rows = await outbox.claimDue(clock.now(), batchSize, leaseMs);
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < rows.length; i = next++) {
          const row = rows[i] as OutboxRecord;
          await deliver(row).catch((err: unknown) => {
            logger.error({ err, key: row.key }, "notification delivery failed; retried after the lease");
          });
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, rows.length) }, worker));
      handled += rows.length;
      if (rows.length < batchSize || abort.signal.aborted) break;
    }
    const now = clock.now();
    if (now - lastPurgeMs >= 3_600_000) {
      lastPurgeMs = now;
      await outbox.purgeSettled(now - retentionMs);
    }
    metrics.setPending(await outbox.pendingCount());
    return handled;
  }

  function schedule(delayMs: number): void {
    if (timer) clock.clearTimer(timer);
    timer = clock.setTimer(delayMs, () => {
      timer = undefined;
      void run();
    });
  }

  async function run(): Promise<number> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let handled = 0;
      do {
        again = false;
        handled += await pass().catch((err: unknown) => {
          logger.error({ err }, "notification outbox pass failed");
          return 0;
        });
      } while (again && !abort.signal.aborted);
      return handled;
    })();
    try {
      return await running;
    } finally {
      running = undefined;
      if (started && !abort.signal.aborted) {
        const due = await outbox.nextDueAtMs().catch(() => undefined);
        if (!abort.signal.aborted)
          schedule(due === undefined ? pollMs : Math.min(pollMs, Math.max(0, due - clock.now())));
      }
    }
  }

  return {
    start() {
      if (started || abort.signal.aborted) return;
      started = true;
      schedule(0);
    },
    kick() {
      if (started && !abort.signal.aborted) void run();
    },
    async drain() {
      let total = 0;
      for (;;) {
        const n = await run();
        total += n;
        if (n === 0) return total;
      }
    },
    async close() {
      abort.abort();
      if (timer) clock.clearTimer(timer);
      timer = undefined;
      await running;
    },
  };
}

function thrown(err: unknown): SendOutcome {
  return { result: "retry", error: err instanceof Error ? err.message : String(err) };
}
