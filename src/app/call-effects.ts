/**
 * Executes the effects of a call's transitions (docs/style.md 2: effects are data): sends
 * to devices (queued while a participant is absent), store writes chained per call,
 * timers, and notifications that go out only from the node whose finalize set the
 * outcome, so each is sent exactly once cluster-wide.
 */
import type { Logger } from "pino";
import type { CallState, DeviceRef, Effect, OutboundEvent, TimerName } from "../domain/call-types.ts";
import { summarizeQuality } from "../domain/quality.ts";
import type { SampleRollup, UserSample } from "../domain/sample-rollup.ts";
import type { CallParticipants } from "./call-participants.ts";
import type { CallDirectory } from "./ports/call-directory.ts";
import type { CallStore } from "./ports/call-store.ts";
import type { Clock, TimerHandle } from "./ports/clock.ts";
import type { Metrics } from "./ports/metrics.ts";
import type { Notifier } from "./ports/notifier.ts";
import type { Delivery } from "./router.ts";

/** One call held by the node running it. */
export interface CallEntry {
  state: CallState;
  readonly timers: Map<TimerName, TimerHandle>;
  /** The call's store writes, chained so they land in order. */
  writes: Promise<unknown>;
  /** The call's directory writes, chained apart (they must not wait for slower store writes). */
  directoryWrites: Promise<unknown>;
  /** Samples for the summary the call ends with (call-samples.ts). */
  readonly samples: UserSample[];
  /** The samples not yet written: the open window (call-samples.ts). */
  rollup: SampleRollup;
  readonly parts: CallParticipants;
}

/** Collaborators of the effect executor. */
export interface CallEffectsDeps {
  readonly clock: Clock;
  readonly store: CallStore;
  readonly directory: CallDirectory;
  readonly notifier: Notifier;
  readonly delivery: Delivery;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** A timer set by an effect fired. */
  readonly onTimer: (callId: string, timer: TimerName) => void;
  /** Writes the call's open sample window (chained before its finalize). */
  readonly sealSamples: (e: CallEntry) => void;
}

/** The effect executor of one node. */
export interface CallEffects {
  /**
   * Chains a write after the call's earlier ones of the same store ("directory", or the call
   * store): timed; a failure is counted and logged.
   */
  write<T>(e: CallEntry, operation: string, fn: () => Promise<T>, storeName?: string): Promise<T>;
  /** Sends an event to a device of the call (queued while the device is an absent participant). */
  send(e: CallEntry, to: DeviceRef, event: OutboundEvent): void;
  /** Executes a transition's effects, in order. */
  execute(e: CallEntry, effects: readonly Effect[]): void;
}

/** Creates the effect executor. */
export function createCallEffects(deps: CallEffectsDeps): CallEffects {
  const { clock, store, directory, notifier, delivery, metrics, logger } = deps;

  function write<T>(e: CallEntry, operation: string, fn: () => Promise<T>, storeName = "calls"): Promise<T> {
    const timed = metrics.storeDuration.startTimer({ store: storeName, operation });
    const chain = storeName === "directory" ? "directoryWrites" : "writes";
    const p = e[chain].then(fn);
    e[chain] = p.then(
      () => timed(),
      (err: unknown) => {
        metrics.storeErrors.inc({ store: storeName, operation });
        logger.error({ err, callId: e.state.call.callId, operation }, "call store write failed");
      },
    );
    return p;
  }

  function send(e: CallEntry, to: DeviceRef, event: OutboundEvent): void {
    const where = e.parts.where(to);
    if (where === "absent") e.parts.queue(to, event);
    else delivery.deliver(to, event, where);
  }

  function execute(e: CallEntry, effects: readonly Effect[]): void {
    const { callId } = e.state.call;
    // A missed call (its event and notification) goes out only from the writer whose finalize set
    // the outcome, so it is sent exactly once cluster-wide. Other notifications of an ending call
    // (stop ringing) go at once: a second one is harmless, a missing one leaves a phone ringing.
    const afterFinalize: Effect[] = [];
    let finalize: Promise<boolean> | undefined;
    for (const effect of effects) {
      switch (effect.kind) {
        case "send":
          send(e, effect.to, effect.event);
          break;
        case "send_user":
        case "notify":
          if (isMissedCall(effect) && effects.some((x) => x.kind === "record_end")) afterFinalize.push(effect);
          else runDeferred(effect);
          break;
        case "record_start":
          write(e, "record_start", () => store.recordStart(effect.call)).catch(() => {});
          break;
        case "record_answer":
          write(e, "record_answer", () => store.recordAnswer(callId, effect.deviceId, effect.answeredAtMs)).catch(
            () => {},
          );
          break;
        case "record_end": {
          deps.sealSamples(e);
          const quality = e.samples.length > 0 ? summarizeQuality(e.samples) : undefined;
          const done = write(e, "finalize", () => store.finalize(effect.call, effect.end, quality));
          finalize = done;
          // The directory keeps the (ended) call until its outcome is durable, for a takeover.
          const release = () => write(e, "release", () => directory.release(callId), "directory");
          done.then(release, release).catch(() => {});
          break;
        }
        case "set_timer": {
          const timer = effect.timer;
          e.timers.set(
            timer,
            clock.setTimer(effect.atMs - clock.now(), () => deps.onTimer(callId, timer)),
          );
          break;
        }
        case "clear_timer": {
          const handle = e.timers.get(effect.timer);
          if (handle) clock.clearTimer(handle);
          e.timers.delete(effect.timer);
          break;
        }
      }
    }
    finalize?.then(
      (won) => {
        // Not set by this write: set elsewhere, or queued until the store is back (then reported by the store).
        if (!won) return logger.info({ callId }, "outcome not set by this finalize");
        if (e.state.phase === "ended") {
          const { outcome, reason, answeredAtMs, endedAtMs } = e.state.end;
          metrics.callsEnded.inc({ outcome });
          const durationMs = answeredAtMs === undefined ? 0 : endedAtMs - answeredAtMs;
          logger.info({ callId, outcome, reason, durationMs }, "call ended");
        }
        for (const effect of afterFinalize) runDeferred(effect);
      },
      () => {},
    );
  }

  function runDeferred(effect: Effect): void {
    if (effect.kind === "send_user") delivery.deliverToUser(effect.userId, effect.event);
    if (effect.kind === "notify") {
      notifier
        .notify(effect.notification)
        .catch((err: unknown) => logger.error({ err, callId: effect.notification.callId }, "notify failed"));
    }
  }

  return { write, send, execute };
}

/** The missed-call event or notification of a call that rang out. */
function isMissedCall(effect: Extract<Effect, { kind: "send_user" | "notify" }>): boolean {
  return effect.kind === "notify" ? effect.notification.kind === "missed_call" : effect.event.type === "missed_call";
}
