/**
 * A call's listening-quality score from its participants' samples (docs/spec.md §15): an E-model
 * MOS (mos.ts) per window of consecutive samples of one participant, the median and the worst
 * window, the median in words, and when it is poor, whose network the readings point at.
 */
import { mosOf, type Verdict, verdictOf } from "./mos.ts";
import type { QualitySample } from "./quality.ts";

/** The score stored with a call. */
export interface QualityScore {
  /** Median MOS (1–4.5) over the windows of both participants. */
  readonly medianMos: number;
  /** MOS of the worst window. */
  readonly worstMos: number;
  /** The median MOS in words. */
  readonly verdict: Verdict;
  /** When poor: the user whose readings were worse; absent when both sides' readings were alike. */
  readonly poorNetworkUserId?: string;
}

/**
 * Samples per window: 10 s at the clients' 2 s sampling (§6), the span Twilio judges "3 of 5
 * samples" over. One bad reading is a blip; a bad window is heard.
 */
export const samplesPerWindow = 5;

/**
 * How much lower one side's median must be to name its network: 0.1 MOS, the precision history
 * shows. Closer than that, the readings do not say which side it was.
 */
export const causeMarginMos = 0.1;

/** Scores samples (any order; windows never mix participants); undefined when there are none. */
export function scoreQuality(
  samples: readonly (QualitySample & { readonly userId?: string })[],
): QualityScore | undefined {
  const byUser = new Map<string, QualitySample[]>();
  for (const s of [...samples].sort((a, b) => a.atMs - b.atMs)) {
    const who = s.userId ?? "";
    const own = byUser.get(who);
    if (own) own.push(s);
    else byUser.set(who, [s]);
  }
  const sides = [...byUser].map(([userId, own]) => ({ userId, windows: windowsOf(own).map(windowMos) }));
  const all = sides.flatMap((s) => s.windows);
  if (all.length === 0) return undefined;
  const medianMos = median(all);
  const verdict = verdictOf(medianMos);
  const cause = verdict === "poor" ? worseSide(sides.map((s) => ({ userId: s.userId, mos: median(s.windows) }))) : "";
  return { medianMos, worstMos: Math.min(...all), verdict, ...(cause ? { poorNetworkUserId: cause } : {}) };
}

/** Consecutive windows of `samplesPerWindow`; a short tail joins the window before it. */
function windowsOf(samples: readonly QualitySample[]): QualitySample[][] {
  const windows: QualitySample[][] = [];
  for (let i = 0; i < samples.length; i += samplesPerWindow) windows.push(samples.slice(i, i + samplesPerWindow));
  const last = windows.at(-1);
  if (windows.length > 1 && last && last.length < samplesPerWindow) {
    windows.pop();
    windows.at(-1)?.push(...last);
  }
  return windows;
}

/** The MOS of a window's mean RTT, jitter and loss (the conditions over those seconds). */
function windowMos(window: readonly QualitySample[]): number {
  const mean = (f: (s: QualitySample) => number) => window.reduce((sum, s) => sum + f(s), 0) / window.length;
  return mosOf({
    rttMs: mean((s) => s.rttMs),
    jitterMs: mean((s) => s.jitterMs),
    fractionLost: mean((s) => s.fractionLost),
  });
}

/**
 * The user whose median is lower by at least `causeMarginMos`, or "" (alike, or samples without a
 * user). A side that alone sent samples is the only evidence there is: its network is named.
 */
function worseSide(sides: readonly { readonly userId: string; readonly mos: number }[]): string {
  const [worst, next] = [...sides].sort((a, b) => a.mos - b.mos);
  if (!worst) return "";
  return next === undefined || next.mos - worst.mos >= causeMarginMos ? worst.userId : "";
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}
