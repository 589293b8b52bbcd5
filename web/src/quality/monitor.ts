/**
 * Runs the adaptive loop of one call: every `intervalMs` reads getStats(), feeds
 * the pure controller, applies the chosen ladder step to the camera's
 * RTCRtpSender with setParameters, and hands the reading out (badge + QualityReport).
 * While the connection is not up (an outage, an ICE restart in progress) it does not
 * adapt: no packets flowing says nothing about the link's capacity.
 */
import { type ControllerState, decide, fittingStep, initialControllerState } from "./controller.ts";
import { encodingForStep } from "./ladder.ts";
import { type ParsedStats, parseStats, type StatsEntry, type StatsSnapshot } from "./stats.ts";

/** One reading with the step in force after it. */
export interface QualityReading {
  readonly stats: ParsedStats;
  readonly step: number;
  readonly changed: boolean;
  readonly reason: string;
}

/** Options of the loop. */
export interface MonitorOptions {
  readonly pc: RTCPeerConnection;
  readonly sender: RTCRtpSender | undefined;
  /** Height of the camera track (to compute scaleResolutionDownBy). */
  readonly sourceHeight: number;
  readonly intervalMs?: number;
  onReading(reading: QualityReading): void;
}

/** A running loop. */
export interface QualityMonitor {
  /** A server QualityHint: never send above this bitrate (0 lifts it). */
  setBitrateCap(bps: number): void;
  stop(): void;
}

/** Starts the loop; applies step 0 right away. */
export function startQualityMonitor(o: MonitorOptions): QualityMonitor {
  let state: ControllerState = initialControllerState(Date.now());
  let snapshot: StatsSnapshot | undefined;
  let capBps = 0;
  let applied = -1;
  let stopped = false;

  const effective = (step: number) => (capBps > 0 ? Math.max(step, fittingStep(capBps)) : step);

  async function apply(step: number): Promise<void> {
    const sender = o.sender;
    if (!sender || step === applied) return;
    const params = sender.getParameters();
    const first = params.encodings[0];
    if (!first) return;
    const enc = encodingForStep(step, o.sourceHeight);
    params.encodings[0] = { ...first, ...enc };
    await sender.setParameters(params);
    applied = step;
  }

  async function tick(): Promise<void> {
    const report = await o.pc.getStats();
    const parsed = parseStats(report.values() as Iterable<StatsEntry>, snapshot);
    snapshot = parsed.snapshot;
    if (o.pc.connectionState !== "connected") return;
    const d = decide(state, {
      atMs: Date.now(),
      availableOutgoingBitrateBps: parsed.availableOutgoingBitrateBps,
      fractionLost: parsed.fractionLost,
      rttMs: parsed.rttMs,
    });
    state = d.state;
    const step = effective(d.step);
    const changed = step !== applied;
    await apply(step).catch(() => {});
    if (!stopped) o.onReading({ stats: parsed, step, changed, reason: d.reason });
  }

  void apply(effective(state.step)).catch(() => {});
  const timer = setInterval(() => void tick().catch(() => {}), o.intervalMs ?? 2_000);
  return {
    setBitrateCap(bps) {
      capBps = bps;
      void apply(effective(state.step)).catch(() => {});
    },
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
