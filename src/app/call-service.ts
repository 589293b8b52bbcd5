/**
 * Runs calls: holds each live call's state, feeds events to the pure state machine
 * and executes the effects it returns (deliver, persist, notify, timers).
 * Busy and glare are decided here because they look across calls.
 */

import type { Logger } from "pino";
import { v7 as uuidv7 } from "uuid";
import { type CallPolicy, startCall, transition } from "../domain/call-machine.ts";
import type { CallEvent, CallState, DeviceRef, Effect, TimerName, Transition } from "../domain/call-types.ts";
import { DomainError } from "../domain/errors.ts";
import { type QualitySample, summarizeQuality } from "../domain/quality.ts";
import type { Metrics } from "./metrics.ts";
import type { CallStore } from "./ports/call-store.ts";
import type { Clock, TimerHandle } from "./ports/clock.ts";
import type { Notifier } from "./ports/notifier.ts";
import type { CommandResult } from "./session-events.ts";
import type { SessionHub } from "./session-hub.ts";

/** Collaborators of the call service. */
export interface CallServiceDeps {
  readonly clock: Clock;
  readonly policy: CallPolicy;
  readonly store: CallStore;
  readonly notifier: Notifier;
  readonly hub: Pick<SessionHub, "deliver" | "deliverToUser" | "liveDevices">;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** How long an ended call stays in memory to answer late reports and retries. */
  readonly lingerMs: number;
  /** Samples kept in memory per call for the summary. */
  readonly maxSamplesPerCall: number;
}

/** Call-level operations used by the signaling facade. */
export interface CallService {
  /** Starts a call, or answers the callee's ringing call to us (glare). */
  start(from: DeviceRef, calleeUserId: string, video: boolean): Promise<CommandResult>;
  /** Applies a device's event to a call it takes part in. */
  apply(callId: string, event: CallEvent): CommandResult;
  /** Stores a participant's quality sample. */
  report(callId: string, from: DeviceRef, sample: QualitySample): Promise<void>;
  /** A device's session ended for good. */
  deviceLost(device: DeviceRef): void;
  /** A device opened a fresh session (it rings if its user is being called). */
  deviceOnline(device: DeviceRef): void;
  /** Calls ringing or in progress. */
  activeCount(): number;
  /** Waits for pending store writes (for graceful shutdown and tests). */
  flush(): Promise<void>;
}

interface Entry {
  state: CallState;
  readonly timers: Map<TimerName, TimerHandle>;
  writes: Promise<unknown>;
  readonly samples: (QualitySample & { userId: string })[];
}

/** Creates the call service. */
export function createCallService(deps: CallServiceDeps): CallService {
  const { clock, store, notifier, hub, metrics, logger } = deps;
  const calls = new Map<string, Entry>();
  /** Each user's ringing or answered call. */
  const active = new Map<string, string>();

  function entryOf(callId: string): Entry {
    const e = calls.get(callId);
    if (!e) throw new DomainError("not_found", "no such call");
    return e;
  }

  function write<T>(e: Entry, operation: string, fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const p = e.writes.then(fn);
    e.writes = p.then(
      () => metrics.storeDuration.observe({ store: "calls", operation }, (performance.now() - started) / 1000),
      (err: unknown) => {
        metrics.storeErrors.inc({ store: "calls", operation });
        logger.error({ err, callId: e.state.call.callId, operation }, "call store write failed");
      },
    );
    return p;
  }

  function execute(e: Entry, effects: readonly Effect[]): void {
    const { callId } = e.state.call;
    // Notifications and missed-call events of an ending call go out only from the
    // writer whose finalize set the outcome, so each is sent exactly once.
    const afterFinalize: Effect[] = [];
    let finalize: Promise<boolean> | undefined;
    for (const effect of effects) {
      switch (effect.kind) {
        case "send":
          hub.deliver(effect.to, effect.event);
          break;
        case "send_user":
        case "notify":
          if (effects.some((x) => x.kind === "record_end")) afterFinalize.push(effect);
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
          const quality = e.samples.length > 0 ? summarizeQuality(e.samples) : undefined;
          finalize = write(e, "finalize", () => store.finalize(effect.call, effect.end, quality));
          break;
        }
        case "set_timer": {
          const timer = effect.timer;
          e.timers.set(
            timer,
            clock.setTimer(effect.atMs - clock.now(), () => fire(callId, timer)),
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
        if (!won) return logger.info({ callId }, "call already finalized elsewhere");
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
    if (effect.kind === "send_user") hub.deliverToUser(effect.userId, effect.event);
    if (effect.kind === "notify") {
      notifier
        .notify(effect.notification)
        .catch((err: unknown) => logger.error({ err, callId: effect.notification.callId }, "notify failed"));
    }
  }

  function run(e: Entry, t: Transition): void {
    const before = e.state.phase;
    e.state = t.state;
    execute(e, t.effects);
    if (before !== "ended" && t.state.phase === "ended") release(e);
    if (before === "connecting" && t.state.phase === "connected") {
      metrics.mediaPath.inc({ path: t.state.path });
      metrics.callSetup.observe({ phase: "accept_to_connected", path: t.state.path }, t.state.setupMs / 1000);
    }
  }

  function release(e: Entry): void {
    const { call } = e.state;
    for (const user of [call.caller.userId, call.calleeUserId]) {
      if (active.get(user) === call.callId) active.delete(user);
    }
    for (const handle of e.timers.values()) clock.clearTimer(handle);
    e.timers.clear();
    metrics.callsActive.set(active.size / 2);
    clock.setTimer(deps.lingerMs, () => calls.delete(call.callId));
  }

  function fire(callId: string, timer: TimerName): void {
    const e = calls.get(callId);
    if (!e) return;
    e.timers.delete(timer);
    try {
      run(
        e,
        transition(e.state, { type: timer === "ring" ? "ring_timeout" : "setup_timeout" }, clock.now(), deps.policy),
      );
    } catch (err) {
      logger.error({ err, callId, timer }, "timer transition failed");
    }
  }

  return {
    async start(from, calleeUserId, video) {
      const startedAt = performance.now();
      const calleePushable = await notifier.hasPushTarget(calleeUserId);
      // From here on everything is synchronous, so busy and glare checks are atomic.
      const mine = active.get(from.userId);
      if (mine) {
        const e = entryOf(mine);
        const { call } = e.state;
        if (e.state.phase === "ringing" && call.calleeUserId === from.userId && call.caller.userId === calleeUserId) {
          run(e, transition(e.state, { type: "accept", by: from }, clock.now(), deps.policy));
          return { callId: mine, mergedIntoExisting: true };
        }
        throw new DomainError("illegal_transition", "you are already in a call");
      }
      const callId = uuidv7(); // time-ordered, so history ties on start time keep creation order
      const t = startCall(
        {
          callId,
          caller: from,
          calleeUserId,
          video,
          calleeDevices: hub.liveDevices(calleeUserId),
          calleePushable,
          calleeBusy: active.has(calleeUserId),
        },
        clock.now(),
        deps.policy,
      );
      const e: Entry = { state: t.state, timers: new Map(), writes: Promise.resolve(), samples: [] };
      calls.set(callId, e);
      metrics.callsStarted.inc();
      if (t.state.phase === "ringing") {
        active.set(from.userId, callId);
        active.set(calleeUserId, callId);
        metrics.callsActive.set(active.size / 2);
        metrics.callSetup.observe({ phase: "start_to_ringing", path: "none" }, (performance.now() - startedAt) / 1000);
      }
      execute(e, t.effects);
      if (t.state.phase === "ended") clock.setTimer(deps.lingerMs, () => calls.delete(callId));
      return { callId, mergedIntoExisting: false };
    },
    apply(callId, event) {
      const e = entryOf(callId);
      run(e, transition(e.state, event, clock.now(), deps.policy));
      return { callId, mergedIntoExisting: false };
    },
    async report(callId, from, sample) {
      const e = entryOf(callId);
      const { call } = e.state;
      if (from.userId !== call.caller.userId && from.userId !== call.calleeUserId) {
        throw new DomainError("not_participant", "you are not a participant of this call");
      }
      if (e.samples.length < deps.maxSamplesPerCall) e.samples.push({ ...sample, userId: from.userId });
      await write(e, "add_samples", () => store.addSamples(callId, from.userId, [sample]));
    },
    deviceLost(device) {
      const callId = active.get(device.userId);
      if (!callId) return;
      const e = entryOf(callId);
      run(e, transition(e.state, { type: "device_lost", device }, clock.now(), deps.policy));
    },
    deviceOnline(device) {
      const callId = active.get(device.userId);
      const e = callId ? calls.get(callId) : undefined;
      if (e?.state.phase !== "ringing" || e.state.call.calleeUserId !== device.userId) return;
      run(e, transition(e.state, { type: "ring_device", deviceId: device.deviceId }, clock.now(), deps.policy));
    },
    activeCount: () => active.size / 2,
    async flush() {
      await Promise.all([...calls.values()].map((e) => e.writes));
    },
  };
}
