/**
 * A CallStore decorator that loses no write while the real store is down (docs/spec.md §7).
 *
 * Writes go straight to the inner store. When it answers `unavailable`, the write is appended to
 * a durable local queue (outbox-queue.ts) and succeeds; from then on every write queues behind it
 * (so per-call order holds) until a background replay has applied the whole queue in order.
 * Replay relies on the inner store's idempotent writes: an entry applied twice changes nothing.
 * A queue left by a crashed process is replayed when the next one opens the same file.
 *
 * While the inner store is known to be down, reads fail at once with `unavailable`; otherwise a
 * read that takes longer than `readTimeoutMs` fails with `unavailable` instead of hanging.
 *
 * finalize during an outage answers false: whether this write sets the outcome is decided only
 * when it is replayed (another node may set one first, e.g. one that took the call over from a
 * node that died meanwhile). A replayed finalize that set the outcome is reported through
 * `onOutcomeSet`, also for a queue left by an earlier process, so the node that set the outcome
 * sends the missed-call notification, exactly once cluster-wide (docs/cluster.md).
 *
 * Call events (docs/spec.md §9 "Call events") are written by the inner store with the write that
 * set the fact, so a queued write logs its event when it is replayed, positioned at replay time:
 * readers, who stay behind the log's settled edge, get it then, once (an entry applied twice
 * finds its fact set and logs nothing).
 *
 * The takeover sweep must not ring out a call whose finalize is still queued here: overdue
 * listings leave such calls out.
 *
 * An outage is logged twice: a warning when the first write is queued (with the cause), and one
 * line when the queue has drained (how long the store was down, writes queued and replayed,
 * reads refused meanwhile, how long the replay took).
 */
import type { CallSide, CallStore, DeferredOutcomes, OutcomeListener } from "../../../app/ports/call-store.ts";
import type { Clock, TimerHandle } from "../../../app/ports/clock.ts";
import type { CallEnd, CallInfo } from "../../../domain/call-types.ts";
import { DomainError, isDomainError } from "../../../domain/errors.ts";
import type { QualitySample, QualitySummary } from "../../../domain/quality.ts";
import type { CallRating } from "../../../domain/rating.ts";
import type { SampleWindow } from "../../../domain/sample-rollup.ts";
import { type OutboxEntry, type OutboxOp, openOutboxQueue } from "./outbox-queue.ts";

/** Where the decorator reports; a pino logger fits. */
export interface OutboxLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Options of `createOutboxCallStore`. */
export interface OutboxOptions {
  readonly inner: CallStore;
  /** The queue file, on a volume that outlives the process; ":memory:" only in tests. */
  readonly path: string;
  readonly clock: Clock;
  readonly logger?: OutboxLogger;
  /** Beyond this many queued writes, writes fail with `unavailable` (default 1,000,000). */
  readonly maxPending?: number;
  /** Replay retry backoff bounds (defaults 200 ms and 5 s). */
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
  /** Reads slower than this fail with `unavailable` (default 3 s). */
  readonly readTimeoutMs?: number;
}

/** The decorated store plus the outbox's state. */
export interface OutboxCallStore extends CallStore, DeferredOutcomes {
  /** Writes waiting for replay. */
  pending(): number;
  /** Resolves once the queue is empty. */
  drained(): Promise<void>;
}

const replayChunk = 256;
const silent: OutboxLogger = { info() {}, warn() {}, error() {} };

/** Wraps `inner` with a durable outbox at `path`; starts replaying what an earlier run left. */
export function createOutboxCallStore(o: OutboxOptions): OutboxCallStore {
  const { inner, clock } = o;
  const log = o.logger ?? silent;
  const maxPending = o.maxPending ?? 1_000_000;
  const retryMinMs = o.retryMinMs ?? 200;
  const retryMaxMs = o.retryMaxMs ?? 5000;
  const readTimeoutMs = o.readTimeoutMs ?? 3000;
  const queue = openOutboxQueue(o.path, () => clock.now());
  let down = false;
  let replaying: Promise<void> | undefined;
  let retryTimer: TimerHandle | undefined;
  let wakeRetry: (() => void) | undefined;
  let closed = false;
  const listeners = new Set<OutcomeListener>();
  /** Outcomes set on replay before anyone listened (a queue from an earlier run replays at once). */
  const unheard: [CallInfo, CallEnd][] = [];

  function outcomeSet(call: CallInfo, end: CallEnd): void {
    if (listeners.size === 0) unheard.push([call, end]);
    for (const listener of listeners) listener(call, end);
  }
  /** The outage in progress (from the first queued write until the queue drained). */
  let outage: { sinceMs: number; queued: number; readsRefused: number; backAtMs?: number } | undefined;

  function wentDown(reason: string): void {
    down = true;
    if (outage) return;
    outage = { sinceMs: clock.now(), queued: 0, readsRefused: 0 };
    log.warn({ reason }, "call store unavailable: queueing writes in the outbox");
  }

  function drainedAfterOutage(): void {
    if (!outage || queue.count() > 0) return;
    const now = clock.now();
    const { sinceMs, queued, readsRefused, backAtMs = now } = outage;
    outage = undefined;
    log.info(
      { downForMs: backAtMs - sinceMs, queued, readsRefused, replayMs: now - backAtMs },
      "call store reachable again: outbox replayed",
    );
  }

  async function apply(entry: OutboxOp): Promise<unknown> {
    const a = entry.args;
    switch (entry.op) {
      case "recordStart":
        return inner.recordStart(a[0] as CallInfo);
      case "recordAnswer":
        return inner.recordAnswer(a[0] as string, a[1] as string, a[2] as number);
      case "finalize":
        return inner.finalize(a[0] as CallInfo, a[1] as CallEnd, (a[2] ?? undefined) as QualitySummary | undefined);
      case "addSampleWindow":
        return inner.addSampleWindow(a[0] as string, a[1] as SampleWindow);
      case "addSamples":
        return inner.addSampleWindow(a[0] as string, legacySamples(a[1] as string, a[2] as QualitySample[]));
      case "rate":
        return inner.rate(a[0] as string, a[1] as CallSide, a[2] as CallRating);
    }
  }

  async function enqueue(entry: OutboxOp): Promise<void> {
    if (queue.count() >= maxPending) {
      throw new DomainError("unavailable", "call history store unavailable and its outbox is full");
    }
    await queue.append(entry);
    if (outage) outage.queued++;
    startReplay();
  }

  /** Runs a write now, or queues it while the queue is non-empty or the store is down. */
  async function write(entry: OutboxOp): Promise<unknown> {
    if (closed) throw new DomainError("unavailable", "call store closed");
    if (queue.count() === 0 && !replaying) {
      try {
        const result = await apply(entry);
        down = false;
        return result;
      } catch (e) {
        if (!isDomainError(e, "unavailable")) throw e;
        wentDown(reasonOf(e));
        // The attempt may have set the outcome before the store went away (its answer was lost).
        if (entry.op === "finalize") {
          await enqueue({ ...entry, args: [entry.args[0], entry.args[1], entry.args[2] ?? null, "attempted"] });
          return false;
        }
      }
    }
    await enqueue(entry);
    return entry.op === "finalize" ? false : undefined;
  }

  function startReplay(): void {
    if (replaying || closed) return;
    replaying = replay().finally(() => {
      replaying = undefined;
      // Entries appended after the last peek of the loop: go again.
      if (queue.count() > 0 && !closed) startReplay();
    });
  }

  async function replay(): Promise<void> {
    let backoff = retryMinMs;
    while (!closed && queue.count() > 0) {
      queue.flush();
      const batch = queue.peek(replayChunk);
      if (batch.length === 0) break;
      const attemptAtMs = clock.now();
      const failed = await replayBatch(batch);
      if (!failed) {
        if (outage && outage.backAtMs === undefined) outage.backAtMs = attemptAtMs;
        down = false;
        backoff = retryMinMs;
        continue;
      }
      wentDown(reasonOf(failed));
      await new Promise<void>((resolve) => {
        wakeRetry = resolve;
        retryTimer = clock.setTimer(backoff, resolve);
      });
      backoff = Math.min(backoff * 2, retryMaxMs);
    }
    drainedAfterOutage();
  }

  /** Applies a chunk, calls in parallel and each call's entries in order; the error if the store was down. */
  async function replayBatch(batch: readonly OutboxEntry[]): Promise<unknown> {
    const byCall = new Map<string, OutboxEntry[]>();
    for (const entry of batch) byCall.set(entry.callId, [...(byCall.get(entry.callId) ?? []), entry]);
    const done: number[] = [];
    let unavailable: unknown;
    await Promise.all(
      [...byCall.values()].map(async (entries) => {
        for (const entry of entries) {
          try {
            const result = await apply(entry);
            if (entry.op === "finalize" && (result === true || (await setByLostAnswer(entry)))) {
              outcomeSet(entry.args[0] as CallInfo, entry.args[1] as CallEnd);
            } else if (entry.op === "finalize") {
              log.warn({ callId: entry.callId }, "queued finalize not applied: outcome already set");
            }
            done.push(entry.seq);
          } catch (e) {
            if (isDomainError(e, "unavailable")) {
              unavailable = e;
              return;
            }
            log.error({ err: e, callId: entry.callId, op: entry.op }, "outbox entry rejected by the store");
            queue.bury(entry.seq, String(e));
          }
        }
      }),
    );
    queue.remove(done);
    return unavailable;
  }

  /**
   * Whether a finalize whose replay found the outcome set had set it itself, on the attempt whose
   * answer was lost: the stored end is this write's. (A node that took the call over and rang it
   * out would store the same end; that needs this node to die and come back too: not told apart.)
   */
  async function setByLostAnswer(entry: OutboxEntry): Promise<boolean> {
    if (entry.args[3] !== "attempted") return false;
    const end = entry.args[1] as CallEnd;
    const stored = await inner.get(entry.callId);
    return stored?.outcome === end.outcome && stored.endReason === end.reason && stored.endedAtMs === end.endedAtMs;
  }

  /** A read: fails at once while the store is known down, and never waits past readTimeoutMs. */
  async function read<T>(fn: () => Promise<T>): Promise<T> {
    if (down || closed) {
      if (outage) outage.readsRefused++;
      throw new DomainError("unavailable", "call history store unavailable");
    }
    let timer: TimerHandle | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = clock.setTimer(readTimeoutMs, () =>
        reject(new DomainError("unavailable", "call history store did not answer in time")),
      );
    });
    try {
      return await Promise.race([fn(), timeout]);
    } finally {
      if (timer) clock.clearTimer(timer);
    }
  }

  if (queue.count() > 0) {
    outage = { sinceMs: clock.now(), queued: queue.count(), readsRefused: 0 };
    log.warn({ pending: queue.count() }, "outbox has writes from an earlier run: replaying");
    startReplay();
  }

  return {
    recordStart: async (call) => {
      await write({ op: "recordStart", callId: call.callId, args: [call] });
    },
    recordAnswer: async (callId, deviceId, answeredAtMs) => {
      await write({ op: "recordAnswer", callId, args: [callId, deviceId, answeredAtMs] });
    },
    finalize: async (call, end, quality) =>
      (await write({ op: "finalize", callId: call.callId, args: [call, end, quality ?? null] })) === true,
    addSampleWindow: async (callId, window) => {
      if (window.samples.length === 0) return;
      await write({ op: "addSampleWindow", callId, args: [callId, window] });
    },
    rate: async (callId, side, rating) => {
      await write({ op: "rate", callId, args: [callId, side, rating] });
    },
    get: (callId) => read(() => inner.get(callId)),
    listForUser: (query) => read(() => inner.listForUser(query)),
    listSamples: (callId) => read(() => inner.listSamples(callId)),
    readEvents: (partition, after, limit) => read(() => inner.readEvents(partition, after, limit)),
    headPosition: () => read(() => inner.headPosition()),
    listOverdueRinging: async (beforeMs, limit) =>
      (await read(() => inner.listOverdueRinging(beforeMs, limit))).filter((r) => !queue.hasFinalize(r.callId)),
    onOutcomeSet(listener) {
      listeners.add(listener);
      for (const [call, end] of unheard.splice(0)) listener(call, end);
      return () => listeners.delete(listener);
    },
    pending: () => queue.count(),
    async drained() {
      while (queue.count() > 0 || replaying) {
        if (closed) throw new DomainError("unavailable", "call store closed before its outbox drained");
        await (replaying ?? Promise.resolve(startReplay()));
      }
    },
    async close() {
      closed = true;
      if (retryTimer) clock.clearTimer(retryTimer);
      wakeRetry?.();
      await replaying;
      queue.close();
      await inner.close();
    },
  };
}

/** The cause of an outage in one line: the driver's message (e.g. ECONNREFUSED), not a stack. */
function reasonOf(e: unknown): string {
  const cause = e instanceof Error && e.cause instanceof Error ? e.cause : e;
  return cause instanceof Error ? cause.message : String(cause);
}

/**
 * An `addSamples` queued by a process from before sample windows (one participant's samples): the
 * same samples as one window, keyed by that participant and its first sample so a replay repeats it.
 */
function legacySamples(userId: string, samples: readonly QualitySample[]): SampleWindow {
  return { key: `${samples[0]?.atMs ?? 0}-outbox-${userId}`, samples: samples.map((s) => ({ ...s, userId })) };
}
