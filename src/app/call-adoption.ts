/**
 * Taking over a live call whose owner died (docs/cluster.md): the directory already names
 * this node. A call whose outcome is recorded is only released; one that ended before its
 * outcome was durable is recorded here; a ringing or answered call is held on this node
 * with its participants where their sessions are now, its timer armed again, and the
 * participants still connected asked to resend what the dead owner may have swallowed, and the
 * quality samples it stored kept for the call's summary.
 */
import type { Logger } from "pino";
import { participantDevices, resyncSends } from "../domain/call-rejoin.ts";
import type { CallInfo, CallState } from "../domain/call-types.ts";
import type { UserSample } from "../domain/sample-rollup.ts";
import type { CallEffects, CallEntry } from "./call-effects.ts";
import type { CallDirectory, LiveCall } from "./ports/call-directory.ts";
import type { CallStore } from "./ports/call-store.ts";
import type { ClusterMetrics } from "./ports/metrics.ts";
import type { Delivery } from "./router.ts";

/** Collaborators of the takeover of one call. */
export interface CallAdoptionDeps {
  readonly store: Pick<CallStore, "get" | "finalize">;
  readonly directory: Pick<CallDirectory, "release">;
  readonly delivery: Pick<Delivery, "liveDevices" | "whereIs">;
  readonly clusterMetrics: Pick<ClusterMetrics, "callsAdopted">;
  readonly logger: Pick<Logger, "info">;
  /** What is stored of the call's quality samples (call-samples.ts). */
  readonly storedSamples: (callId: string) => Promise<readonly UserSample[]>;
  /** Holds the call on this node from now on. */
  readonly hold: (state: CallState) => CallEntry;
  readonly send: CallEffects["send"];
  /** Arms, on this node, the timer the call's state has running. */
  readonly arm: (e: CallEntry) => void;
  /** The missed call to its callee, in-app and as a notification. */
  readonly sendMissed: (call: CallInfo) => Promise<void>;
}

/** Creates the takeover of one live call (the caller keeps other commands for it waiting). */
export function createCallAdoption(deps: CallAdoptionDeps): (live: LiveCall) => Promise<void> {
  const { store, directory, delivery, logger } = deps;

  /**
   * A call that ended on a node that died before its outcome was durable: records it, and if
   * this node set the outcome of a missed call, notifies it (the events of the end itself went
   * out from the old owner). Stop-ringing pushes of other outcomes are not repeated.
   */
  async function finishEnded(state: Extract<CallState, { phase: "ended" }>): Promise<void> {
    const { call, end } = state;
    const won = await store.finalize(call, end);
    await directory.release(call.callId);
    logger.info({ callId: call.callId, outcome: end.outcome, won }, "took over an ended call");
    if (won && end.outcome === "missed") await deps.sendMissed(call);
  }

  return async (live) => {
    const { callId } = live;
    const record = await store.get(callId);
    if (record?.outcome) {
      await directory.release(callId);
      return;
    }
    let state = live.state;
    if (state.phase === "ended") return finishEnded(state);
    if (state.phase === "ringing") {
      state = { ...state, ringing: await delivery.liveDevices(state.call.calleeUserId) };
    }
    const devices = participantDevices(state);
    const [where, stored] = await Promise.all([
      Promise.all(devices.map((d) => delivery.whereIs(d))),
      state.phase === "ringing" ? [] : deps.storedSamples(callId),
    ]);
    const e = deps.hold(state);
    // The summary at the end covers what the dead owner stored and what reaches this node.
    e.samples.push(...stored);
    devices.forEach((d, i) => {
      const at = where[i];
      if (at) e.parts.at(d, at);
      else e.parts.away(d);
    });
    deps.clusterMetrics.callsAdopted.inc({ phase: state.phase });
    logger.info({ callId, phase: state.phase, from: live.ownerNodeId }, "took over call");
    // Signals the dead owner had accepted but not passed on are gone: participants still
    // connected resend theirs now, absent ones when they come back (notice "online").
    for (const { to, event } of resyncSends(state)) if (e.parts.where(to) !== "absent") deps.send(e, to, event);
    deps.arm(e);
  };
}
