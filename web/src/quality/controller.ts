/**
 * The adaptive quality controller (docs/spec.md §6): a pure reducer from one
 * getStats() reading to the quality-ladder step to send at. No timers, no I/O:
 * the page calls `decide` every ~2 s and applies the step with
 * `encodingForStep` + `RTCRtpSender.setParameters`.
 *
 * Policy, with hysteresis so that a noisy link does not make the picture flap:
 * - down fast: severe loss steps down at once; moderate loss, high RTT or an
 *   estimate below the rung's need step down after `downSamples` bad readings in
 *   a row (bandwidth jumps straight to the best rung that fits);
 * - up slowly: one rung at a time after the link was clean for `upHoldMs`;
 * - probe honestly: after a step up (and at call start) the bandwidth estimate
 *   gets `probeGraceMs` to ramp before it may pull the step down again, and a step
 *   up that fails within `failWindowMs` doubles the next hold (up to `maxUpHoldMs`).
 */
import { LADDER, type LadderStep, WORST_STEP } from "./ladder.ts";

/** One reading of the link, from getStats(). Unknown values are undefined. */
export interface LinkStats {
  readonly atMs: number;
  readonly availableOutgoingBitrateBps?: number;
  /** RTCP fraction lost of the video sender, 0–1. */
  readonly fractionLost?: number;
  readonly rttMs?: number;
}

/** Thresholds and timings; `DEFAULT_CONTROLLER_OPTIONS` documents the defaults. */
export interface ControllerOptions {
  /** Loss above this is bad. */
  readonly lossDown: number;
  /** Loss at or above this steps down immediately. */
  readonly lossSevere: number;
  /** Loss at or below this counts as clean. */
  readonly lossUp: number;
  readonly rttDownMs: number;
  readonly rttUpMs: number;
  /** Estimate below rung bitrate × this is too little bandwidth. */
  readonly bandwidthDownRatio: number;
  /** Consecutive bad readings before a (non-severe) step down. */
  readonly downSamples: number;
  /** Clean time before a step up (base value, doubled by failed probes). */
  readonly upHoldMs: number;
  readonly maxUpHoldMs: number;
  /** After a step up, how long the estimate may lag without pulling the step down. */
  readonly probeGraceMs: number;
  /** A step down this soon after a step up marks the probe as failed. */
  readonly failWindowMs: number;
}

/** Defaults tuned for 1–2 s sampling (see controller.test.ts for the traces). */
export const DEFAULT_CONTROLLER_OPTIONS: ControllerOptions = {
  lossDown: 0.08,
  lossSevere: 0.25,
  lossUp: 0.02,
  rttDownMs: 600,
  rttUpMs: 350,
  bandwidthDownRatio: 0.75,
  downSamples: 2,
  upHoldMs: 8_000,
  maxUpHoldMs: 64_000,
  probeGraceMs: 6_000,
  failWindowMs: 15_000,
};

/** Controller memory between readings. Treat as opaque. */
export interface ControllerState {
  readonly step: number;
  readonly badSamples: number;
  readonly goodSinceMs: number | null;
  readonly lastChangeMs: number;
  readonly lastUpMs: number | null;
  readonly upHoldMs: number;
}

/** Why the step is what it is after a reading. */
export type DecisionReason = "steady" | "loss" | "severe_loss" | "rtt" | "bandwidth" | "recovered";

/** The result of one reading. */
export interface Decision {
  readonly state: ControllerState;
  readonly step: number;
  readonly changed: boolean;
  readonly reason: DecisionReason;
}

/** State at call start: `startStep` with a probe grace, as if it were just stepped up to. */
export function initialControllerState(
  nowMs: number,
  startStep = 0,
  options: ControllerOptions = DEFAULT_CONTROLLER_OPTIONS,
): ControllerState {
  return {
    step: clampStep(startStep),
    badSamples: 0,
    goodSinceMs: null,
    lastChangeMs: nowMs,
    lastUpMs: nowMs,
    upHoldMs: options.upHoldMs,
  };
}

/** Feeds one reading; returns the new state and the step to apply. */
export function decide(
  state: ControllerState,
  stats: LinkStats,
  options: ControllerOptions = DEFAULT_CONTROLLER_OPTIONS,
): Decision {
  const now = stats.atMs;
  const rung = LADDER[state.step] as LadderStep;
  const loss = stats.fractionLost;
  const rtt = stats.rttMs;
  const bwe = stats.availableOutgoingBitrateBps;
  const inGrace = state.lastUpMs !== null && now - state.lastUpMs < options.probeGraceMs;
  // A successful probe (no step down within the window) resets the backoff.
  const upHoldMs =
    state.lastUpMs !== null && now - state.lastUpMs >= options.failWindowMs ? options.upHoldMs : state.upHoldMs;

  if (loss !== undefined && loss >= options.lossSevere && state.step < WORST_STEP) {
    return stepDown(state, state.step + 1, now, "severe_loss", upHoldMs, options);
  }
  const lossBad = loss !== undefined && loss > options.lossDown;
  const rttBad = rtt !== undefined && rtt > options.rttDownMs;
  const bandwidthBad =
    !inGrace && !rung.audioOnly && bwe !== undefined && bwe < rung.maxBitrateBps * options.bandwidthDownRatio;
  if (lossBad || rttBad || bandwidthBad) {
    const badSamples = state.badSamples + 1;
    if (badSamples >= options.downSamples && state.step < WORST_STEP) {
      const target = bandwidthBad && bwe !== undefined ? Math.max(state.step + 1, fittingStep(bwe)) : state.step + 1;
      const reason = bandwidthBad ? "bandwidth" : lossBad ? "loss" : "rtt";
      return stepDown(state, target, now, reason, upHoldMs, options);
    }
    return hold({ ...state, badSamples, goodSinceMs: null, upHoldMs });
  }

  const clean =
    (loss === undefined || loss <= options.lossUp) &&
    (rtt === undefined || rtt <= options.rttUpMs) &&
    (bwe === undefined || inGrace || bwe >= rung.maxBitrateBps);
  if (!clean || state.step === 0) return hold({ ...state, badSamples: 0, goodSinceMs: null, upHoldMs });
  const goodSinceMs = state.goodSinceMs ?? now;
  if (now - goodSinceMs >= upHoldMs && now - state.lastChangeMs >= upHoldMs) {
    const next: ControllerState = {
      step: state.step - 1,
      badSamples: 0,
      goodSinceMs: null,
      lastChangeMs: now,
      lastUpMs: now,
      upHoldMs,
    };
    return { state: next, step: next.step, changed: true, reason: "recovered" };
  }
  return hold({ ...state, badSamples: 0, goodSinceMs, upHoldMs });
}

/** The best rung whose bitrate fits in `bps`; audio-only when none does. */
export function fittingStep(bps: number): number {
  const i = LADDER.findIndex((r) => !r.audioOnly && r.maxBitrateBps <= bps);
  return i === -1 ? WORST_STEP : i;
}

function stepDown(
  state: ControllerState,
  target: number,
  now: number,
  reason: DecisionReason,
  upHoldMs: number,
  options: ControllerOptions,
): Decision {
  const failedProbe = state.lastUpMs !== null && now - state.lastUpMs < options.failWindowMs;
  const next: ControllerState = {
    step: clampStep(target),
    badSamples: 0,
    goodSinceMs: null,
    lastChangeMs: now,
    lastUpMs: null,
    upHoldMs: failedProbe ? Math.min(upHoldMs * 2, options.maxUpHoldMs) : upHoldMs,
  };
  return { state: next, step: next.step, changed: next.step !== state.step, reason };
}

function hold(state: ControllerState): Decision {
  return { state, step: state.step, changed: false, reason: "steady" };
}

function clampStep(step: number): number {
  return Math.min(Math.max(0, Math.trunc(step)), WORST_STEP);
}
