/**
 * Runs the calls this node owns: holds each call's state, feeds events to the pure
 * state machine and executes the effects it returns (deliver, persist, notify,
 * timers). Busy and glare are decided by an atomic claim in the cluster-wide call
 * directory; phase changes are written there before they are acknowledged, so
 * another node can take a call over (`adopt`) when this one dies — while the directory
 * is reachable: directory-outage.ts says what happens when it is not. What to do is the
 * domain's (call-machine, call-rejoin, call-guards); beside this file, call-table.ts holds
 * the node's calls, call-effects.ts executes effects, call-adoption.ts takes a call over.
 */

import type { Logger } from "pino";
import { isGlare, otherParticipant, requireParticipantUser } from "../domain/call-guards.ts";
import { armedTimer, type CallPolicy, startCall, transition } from "../domain/call-machine.ts";
import { deviceBack, isParticipantDevice } from "../domain/call-rejoin.ts";
import type {
  CallEnd,
  CallEvent,
  CallInfo,
  CallState,
  DeviceRef,
  OutboundEvent,
  TimerName,
  Transition,
} from "../domain/call-types.ts";
import { isAnsweredCall } from "../domain/call-waiting.ts";
import { commandEvent } from "../domain/commands.ts";
import { DomainError } from "../domain/errors.ts";
import { emptyRollup, type RollupPolicy } from "../domain/sample-rollup.ts";
import type { Blocking } from "./blocking.ts";
import { createCallAdoption } from "./call-adoption.ts";
import { type CallEntry, createCallEffects } from "./call-effects.ts";
import { createCallParticipants } from "./call-participants.ts";
import { createCallSamples } from "./call-samples.ts";
import type { CallSettings } from "./call-settings.ts";
import { createCallTable } from "./call-table.ts";
import {
  claimWhenBack,
  createDirectoryWaits,
  isDirectoryOutage,
  localClaim,
  localLiveCall,
} from "./directory-outage.ts";
import type { CallDirectory, ClaimResult, LiveCall } from "./ports/call-directory.ts";
import type { CallStore } from "./ports/call-store.ts";
import type { Clock } from "./ports/clock.ts";
import type { Ids } from "./ports/ids.ts";
import type { ClusterMetrics, Metrics } from "./ports/metrics.ts";
import type { Notifier } from "./ports/notifier.ts";
import type { CallCommand, DeviceNoticeKind } from "./ports/peers.ts";
import type { Delivery } from "./router.ts";
import type { CommandResult } from "./session-events.ts";

/** Collaborators of the call service. */
export interface CallServiceDeps {
  /** This node's id, recorded as the owner of the calls it starts. */
  readonly nodeId: string;
  readonly clock: Clock;
  /** Call ids. */
  readonly ids: Ids;
  readonly policy: CallPolicy;
  readonly store: CallStore;
  readonly directory: CallDirectory;
  readonly notifier: Notifier;
  /** Whether a callee blocked a caller (read at every start, beside the callee's devices). */
  readonly blocking: Pick<Blocking, "blocks">;
  /** Whether a callee in a call takes waiting calls (read only when a start finds them in one). */
  readonly settings: Pick<CallSettings, "takesWaitingCalls">;
  readonly delivery: Delivery;
  readonly metrics: Metrics;
  readonly clusterMetrics: ClusterMetrics;
  readonly logger: Logger;
  /** How long an ended call stays in memory to answer late reports and retries. */
  readonly lingerMs: number;
  /** Samples kept in memory per call for the summary. */
  readonly maxSamplesPerCall: number;
  /** How a call's samples are rolled up into stored windows (docs/spec.md §7 "Sample windows"). */
  readonly sampleRollup: RollupPolicy;
  /** How long a participant device may have no session anywhere before it counts as lost. */
  readonly absentGraceMs: number;
  /** Events kept per absent participant device until it comes back. */
  readonly maxQueuedPerDevice: number;
}

/** What `start` did: started a call, or found the callee's ringing call to us (glare) to answer instead. */
export type StartResult = { readonly kind: "started" | "glare"; readonly callId: string };

/** Call-level operations on this node's calls. */
export interface CallService {
  /** Starts a call run by this node, or reports the ringing call to merge into (glare). */
  start(from: DeviceRef, calleeUserId: string, video: boolean): Promise<StartResult>;
  /** Whether this node runs the call (or is about to). */
  runs(callId: string): boolean;
  /** Runs a device's command for a call this node runs; `at` is the node the device spoke from. */
  command(from: DeviceRef, command: CallCommand, at: string): Promise<CommandResult>;
  /** Applies one event to a call this node runs. */
  apply(callId: string, event: CallEvent, at?: string): Promise<CommandResult>;
  /** News about a device of a call this node runs, from node `at`. */
  notice(callId: string, device: DeviceRef, kind: DeviceNoticeKind, at: string): Promise<void>;
  /** Takes over a live call whose owner died (the directory already names this node). */
  adopt(live: LiveCall): Promise<void>;
  /**
   * The store set a call's outcome for this node after its finalize answered false (a write
   * queued during a store outage, replayed): sends the missed call, as a won finalize does.
   */
  outcomeSet(call: CallInfo, end: CallEnd): void;
  /** An event for `to` found no session anywhere. */
  undeliverable(to: DeviceRef, event: OutboundEvent): void;
  /** Node `nodeId` left: its devices in this node's calls are absent until they come back. */
  nodeLeft(nodeId: string): void;
  /** Ids of the calls this node runs that have not ended. */
  running(): string[];
  /** Another node runs the call now (this node was taken for dead): forgets it without any effect. */
  forfeit(callId: string): void;
  /** Calls ringing or in progress on this node. */
  activeCount(): number;
  /** Writes the calls' open sample windows and waits for pending store writes (graceful shutdown, tests). */
  flush(): Promise<void>;
}

/** Creates the call service. */
export function createCallService(deps: CallServiceDeps): CallService {
  const { clock, store, directory, notifier, delivery, metrics, logger, nodeId } = deps;
  const calls = createCallTable({ clock, metrics, lingerMs: deps.lingerMs });

  function newEntry(state: CallState): CallEntry {
    const e: CallEntry = {
      state,
      timers: new Map(),
      writes: Promise.resolve(),
      directoryWrites: Promise.resolve(),
      samples: [],
      rollup: emptyRollup,
      parts: createCallParticipants({
        clock,
        graceMs: deps.absentGraceMs,
        maxQueued: deps.maxQueuedPerDevice,
        onLost: (device) =>
          safely(e, () => transition(e.state, { type: "device_lost", device }, clock.now(), deps.policy)),
        onOverflow: (device) => logger.warn({ callId: state.call.callId, device }, "queue of an absent device full"),
      }),
    };
    calls.add(e);
    return e;
  }

  const effects = createCallEffects({
    clock,
    store,
    directory,
    notifier,
    delivery,
    metrics,
    logger,
    onTimer: (callId, timer) => fire(callId, timer),
    sealSamples: (e) => samples.sealOpen(e),
  });
  const { write, send, execute } = effects;
  const samples = createCallSamples(
    { nodeId, clock, store, policy: deps.sampleRollup, maxSamplesPerCall: deps.maxSamplesPerCall, logger },
    write,
  );
  const waits = createDirectoryWaits(clock);

  /** Applies a transition; resolves once a phase change is durable in the directory. */
  function run(e: CallEntry, t: Transition): Promise<void> {
    const before = e.state.phase;
    e.state = t.state;
    execute(e, t.effects);
    if (before !== "ended" && t.state.phase === "ended") calls.release(e);
    if (before === "connecting" && t.state.phase === "connected") {
      metrics.mediaPath.inc({ path: t.state.path });
      metrics.callSetup.observe({ phase: "accept_to_connected", path: t.state.path }, t.state.setupMs / 1000);
    }
    const now = t.state;
    if (now.phase === before) return Promise.resolve();
    // An ended call is written too: its users are free at once (a redial must not find them busy).
    return waits.acknowledge(write(e, "update", () => directory.update(now), "directory"));
  }

  /** The user's live call from the directory, or during an outage among this node's calls. */
  async function liveCallOf(userId: string): Promise<LiveCall | undefined> {
    try {
      return await directory.findByUser(userId);
    } catch (err) {
      if (!isDirectoryOutage(err)) throw err;
      waits.down();
      return localLiveCall(callStates(), userId, nodeId);
    }
  }

  const callStates = () => [...calls.entries()].map((e) => e.state);

  /** The directory's claim, or during an outage this node's own judgement (the claim follows later). */
  async function claim(state: Extract<CallState, { phase: "ringing" }>): Promise<ClaimResult & { deferred?: true }> {
    try {
      return await directory.claim(state, nodeId);
    } catch (err) {
      if (!isDirectoryOutage(err)) throw err;
      waits.down();
      const local = localClaim(callStates(), state, nodeId);
      return local.ok ? { ok: true, deferred: true } : local;
    }
  }

  /** Whether a refused claim ran only into the callee's answered call, and the callee takes waiting calls. */
  async function mayWait(conflict: ClaimResult, calleeUserId: string): Promise<boolean> {
    if (conflict.ok || conflict.caller || !conflict.callee) return false;
    if (!isAnsweredCall(conflict.callee.state)) return false;
    return deps.settings.takesWaitingCalls(calleeUserId);
  }

  /** Backpressure: signaling towards a participant whose node's link is far behind is refused, not queued. */
  function refuseWhenCongested(e: CallEntry, from: DeviceRef): void {
    const { state } = e;
    if (state.phase !== "connecting" && state.phase !== "connected") return;
    const where = e.parts.where(otherParticipant(state, from));
    if (where !== undefined && where !== "absent" && delivery.congested(where)) {
      throw new DomainError("unavailable", "the other participant's node is overloaded; retry");
    }
  }

  function safely(e: CallEntry, make: () => Transition): void {
    try {
      run(e, make()).catch(() => {});
    } catch (err) {
      logger.error({ err, callId: e.state.call.callId }, "transition failed");
    }
  }

  function fire(callId: string, timer: TimerName): void {
    const e = calls.get(callId);
    if (!e) return;
    e.timers.delete(timer);
    const type = timer === "ring" ? "ring_timeout" : "setup_timeout";
    safely(e, () => transition(e.state, { type }, clock.now(), deps.policy));
  }

  /** The missed call to its callee: in-app and as a notification (once: by the node whose finalize set it). */
  async function sendMissed(call: CallInfo): Promise<void> {
    const missed = { callId: call.callId, callerUserId: call.caller.userId, startedAtMs: call.startedAtMs };
    delivery.deliverToUser(call.calleeUserId, { type: "missed_call", ...missed });
    await notifier.notify({ kind: "missed_call", userId: call.calleeUserId, ...missed });
  }

  /** Arms, on this node, the timer the call's state has running (a takeover). */
  function arm(e: CallEntry): void {
    const armed = armedTimer(e.state);
    if (!armed) return;
    const { callId } = e.state.call;
    e.timers.set(
      armed.timer,
      clock.setTimer(armed.atMs - clock.now(), () => fire(callId, armed.timer)),
    );
  }

  const takeOver = createCallAdoption({
    store,
    directory,
    delivery,
    clusterMetrics: deps.clusterMetrics,
    logger,
    hold: newEntry,
    storedSamples: (callId) => samples.stored(callId),
    send,
    arm,
    sendMissed,
  });

  const service: CallService = {
    start(from, calleeUserId, video) {
      const ringing = metrics.callSetup.startTimer({ phase: "start_to_ringing", path: "none" });
      const callId = deps.ids.callId();
      return calls.creating(callId, async () => {
        const [calleeDevices, calleePushable, calleeBlocksCaller] = await Promise.all([
          delivery.liveDevices(calleeUserId),
          notifier.hasPushTarget(calleeUserId),
          deps.blocking.blocks(calleeUserId, from.userId),
        ]);
        const input = {
          callId,
          caller: from,
          calleeUserId,
          video,
          calleeDevices,
          calleePushable,
          calleeBusy: false,
          calleeBlocksCaller,
          waiting: false,
        };
        let t = startCall(input, clock.now(), deps.policy);
        let conflict: ClaimResult & { deferred?: true } = { ok: true };
        if (t.state.phase === "ringing") {
          conflict = await claim(t.state);
          // The callee is in an answered call: ring as a waiting call if they take them (§14 "Call waiting").
          if (await mayWait(conflict, calleeUserId)) {
            const waiting = startCall({ ...input, waiting: true }, clock.now(), deps.policy);
            const asWaiting = await claim(waiting.state as Extract<CallState, { phase: "ringing" }>);
            if (asWaiting.ok) [t, conflict] = [waiting, asWaiting];
            // Their call ended meanwhile: the callee is free, so the start rings as an ordinary call.
            else if (!asWaiting.caller && !asWaiting.callee)
              conflict = await claim(t.state as Extract<CallState, { phase: "ringing" }>);
            else conflict = asWaiting;
          }
        } else {
          const mine = await liveCallOf(from.userId);
          if (mine && mine.state.phase !== "ended") conflict = { ok: false, caller: mine };
        }
        if (!conflict.ok && conflict.caller) {
          if (isGlare(conflict.caller.state, from, calleeUserId))
            return { kind: "glare", callId: conflict.caller.callId };
          throw new DomainError("illegal_transition", "you are already in a call");
        }
        if (!conflict.ok) t = startCall({ ...input, calleeBusy: true }, clock.now(), deps.policy);
        const e = newEntry(t.state);
        if (conflict.deferred && t.state.phase === "ringing") {
          const ringingState = t.state;
          write(e, "claim", () => claimWhenBack({ directory, clock, logger }, ringingState, nodeId), "directory").catch(
            () => {},
          );
        }
        e.parts.at(from, nodeId);
        metrics.callsStarted.inc();
        if (t.state.phase === "ringing") {
          ringing();
        }
        execute(e, t.effects);
        return { kind: "started", callId };
      });
    },
    runs: (callId) => calls.has(callId),
    async command(from, command, at) {
      const { callId } = command;
      if (command.kind !== "quality_report") return service.apply(callId, commandEvent(from, command), at);
      const e = await calls.entryOf(callId);
      requireParticipantUser(e.state.call, from);
      samples.report(e, from.userId, command.sample);
      return { callId, mergedIntoExisting: false };
    },
    async apply(callId, event, at) {
      const e = await calls.entryOf(callId);
      if (event.type === "relay") refuseWhenCongested(e, event.from);
      const t = transition(e.state, event, clock.now(), deps.policy);
      const by = "by" in event ? event.by : "from" in event ? event.from : undefined;
      // A device speaks from where its session is now; one that was absent is back.
      const queued = by && at ? e.parts.back(by, at) : [];
      const durable = run(e, t);
      if (by) for (const ev of queued) send(e, by, ev);
      await durable;
      return { callId, mergedIntoExisting: false };
    },
    async notice(callId, device, kind, at) {
      const e = await calls.entryOf(callId);
      if (e.state.phase === "ended") return;
      if (kind === "lost") {
        const where = e.parts.where(device);
        if (where !== undefined && where !== "absent" && where !== at) return; // it moved on since
        safely(e, () => transition(e.state, { type: "device_lost", device }, clock.now(), deps.policy));
        return;
      }
      const queued = e.parts.back(device, at);
      const back = deviceBack(e.state, device, kind);
      if (back.event) await run(e, transition(e.state, back.event, clock.now(), deps.policy));
      for (const ev of [...back.rejoin, ...queued]) send(e, device, ev);
      for (const { to, event } of back.resync) send(e, to, event);
    },
    adopt(liveCall) {
      const { callId } = liveCall;
      if (calls.has(callId)) return calls.pending(callId) ?? Promise.resolve();
      return calls.creating(callId, () => takeOver(liveCall));
    },
    outcomeSet(call, end) {
      metrics.callsEnded.inc({ outcome: end.outcome });
      logger.info({ callId: call.callId, outcome: end.outcome, reason: end.reason }, "call ended (outcome replayed)");
      if (end.outcome !== "missed") return;
      sendMissed(call).catch((err: unknown) => logger.error({ err, callId: call.callId }, "notify failed"));
    },
    undeliverable(to, event) {
      const e = "callId" in event ? calls.get(event.callId) : undefined;
      if (!e || e.state.phase === "ended" || !isParticipantDevice(e.state, to)) return;
      e.parts.away(to);
      e.parts.queue(to, event);
    },
    nodeLeft(left) {
      for (const e of calls.entries()) {
        if (e.state.phase === "ended") continue;
        for (const device of e.parts.nodeLeft(left)) if (isParticipantDevice(e.state, device)) e.parts.away(device);
      }
    },
    running: () => calls.running(),
    forfeit(callId) {
      const e = calls.get(callId);
      if (!e || e.state.phase === "ended") return;
      calls.drop(e);
      logger.warn({ callId }, "call runs on another node now; dropped here");
    },
    activeCount: () => calls.activeCount(),
    async flush() {
      for (const e of calls.entries()) samples.sealOpen(e);
      await Promise.all([...calls.entries()].flatMap((e) => [e.writes, e.directoryWrites]));
    },
  };
  return service;
}
