/**
 * Call quality: one participant's periodic getStats() sample and the summary
 * stored on the call record (docs/spec.md §6, §7, §15).
 */
import type { PathType, RelayProtocol } from "./call-types.ts";
import { type QualityScore, scoreQuality } from "./quality-score.ts";

/** One getStats() reading reported by a client. */
export interface QualitySample {
  readonly atMs: number;
  /** Fraction of packets lost in the interval, 0–1. */
  readonly fractionLost: number;
  readonly jitterMs: number;
  readonly rttMs: number;
  readonly availableOutgoingBitrateBps: number;
  readonly sentBitrateBps: number;
  readonly frameWidth: number;
  readonly frameHeight: number;
  readonly framesPerSecond: number;
  /** Quality-ladder step in use, 0 = best. */
  readonly qualityStep: number;
  readonly qualityLimitationReason: string;
  readonly path?: PathType;
  /** How this participant reached the relay, when its selected local candidate is one. */
  readonly relayProtocol?: RelayProtocol;
}

/** Averages over a call's samples, how often the sent resolution changed, and the call's score. */
export interface QualitySummary {
  readonly samples: number;
  readonly avgFractionLost: number;
  readonly avgJitterMs: number;
  readonly avgRttMs: number;
  readonly avgBitrateBps: number;
  readonly resolutionChanges: number;
  /** Absent without samples, and on calls recorded before scores existed. */
  readonly score?: QualityScore;
  /**
   * The most restrictive relay protocol of any sample (TLS over TCP over UDP): TLS says someone's
   * network let only TURN over TLS through. Absent when no participant was relayed, and on calls
   * recorded before it existed.
   */
  readonly relayProtocol?: RelayProtocol;
}

const RESTRICTIVENESS: Record<RelayProtocol, number> = { udp: 1, tcp: 2, tls: 3 };

/** The most restrictive relay protocol among `samples` (docs/spec.md §7), if any was relayed. */
export function mostRestrictiveRelay(samples: readonly QualitySample[]): RelayProtocol | undefined {
  let most: RelayProtocol | undefined;
  for (const { relayProtocol: p } of samples) {
    if (p && (!most || RESTRICTIVENESS[p] > RESTRICTIVENESS[most])) most = p;
  }
  return most;
}

/** Summarizes samples (any order; grouped per participant for resolution changes and score windows). */
export function summarizeQuality(samples: readonly (QualitySample & { readonly userId?: string })[]): QualitySummary {
  if (samples.length === 0) {
    return { samples: 0, avgFractionLost: 0, avgJitterMs: 0, avgRttMs: 0, avgBitrateBps: 0, resolutionChanges: 0 };
  }
  const avg = (f: (s: QualitySample) => number) => samples.reduce((sum, s) => sum + f(s), 0) / samples.length;
  const lastResolution = new Map<string, string>();
  let resolutionChanges = 0;
  for (const s of [...samples].sort((a, b) => a.atMs - b.atMs)) {
    const who = s.userId ?? "";
    const resolution = `${s.frameWidth}x${s.frameHeight}`;
    const previous = lastResolution.get(who);
    if (previous !== undefined && previous !== resolution) resolutionChanges += 1;
    lastResolution.set(who, resolution);
  }
  const score = scoreQuality(samples);
  const relayProtocol = mostRestrictiveRelay(samples);
  return {
    samples: samples.length,
    avgFractionLost: avg((s) => s.fractionLost),
    avgJitterMs: avg((s) => s.jitterMs),
    avgRttMs: avg((s) => s.rttMs),
    avgBitrateBps: Math.round(avg((s) => s.sentBitrateBps)),
    resolutionChanges,
    ...(score ? { score } : {}),
    ...(relayProtocol ? { relayProtocol } : {}),
  };
}
