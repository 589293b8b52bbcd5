/**
 * A listening-quality estimate (MOS, 1–4.5) from network readings, after the ITU-T G.107 E-model
 * simplified as LiveKit's and Twilio's scorers do (docs/spec.md §15):
 *
 *   R = 93.2 − Id(d) − Ie,eff(loss), MOS = f(R)
 *
 * where d is the one-way mouth-to-ear delay estimated from RTT and jitter. Echo, noise and loudness
 * (Is and the rest of Ro) keep G.107's default values, folded into 93.2. Pure.
 */

/** How a codec copes with loss: G.107's equipment impairment Ie and packet-loss robustness Bpl. */
export interface CodecImpairment {
  /** Ie: impairment of the codec with no loss (0 = transparent). */
  readonly ie: number;
  /** Bpl: the higher, the better the codec conceals lost packets. */
  readonly bpl: number;
  /** Milliseconds of audio per packet, added to the one-way delay. */
  readonly packetMs: number;
}

/**
 * Opus as WebRTC sends it. G.113 Appendix I (Table I.1) has no Opus row: we take the row of G.711
 * with packet-loss concealment (Ie = 0, Bpl = 25.1), the nearest one, because Opus at WebRTC's
 * bitrates is transparent on the narrowband scale this model uses (Ie = 0) and its own concealment
 * does at least as well as G.711 Appendix I's. 20 ms packets: the Opus frame libwebrtc sends by
 * default (LiveKit's scorer assumes the same: "Opus uses 20 ms packetisation (50 pps)").
 */
export const opus: CodecImpairment = { ie: 0, bpl: 25.1, packetMs: 20 };

/** R with every impairment at G.107's defaults (Ro − Is − Id − Ie at their default parameters). */
export const defaultR = 93.2;

/** The network readings one estimate is made from. */
export interface NetworkReading {
  readonly rttMs: number;
  readonly jitterMs: number;
  /** Fraction of packets lost, 0–1. */
  readonly fractionLost: number;
}

/**
 * G.107 Annex B (eq. B-4): the MOS (conversational quality estimate) for a rating R:
 * 1 for R ≤ 0, 1 + 0.035R + 7·10⁻⁶·R(R − 60)(100 − R) in between, 4.5 for R ≥ 100. The polynomial
 * dips just under 1 for R below about 6.5, where it is held at 1.
 */
export function mosFromR(r: number): number {
  if (r <= 0) return 1;
  if (r >= 100) return 4.5;
  return Math.max(1, 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r));
}

/**
 * Id, the delay impairment, for a one-way delay in ms: Cole and Rosenbluth's fit of G.107's Idd with
 * default echo ("Voice over IP performance monitoring", ACM SIGCOMM CCR 31(2), 2001):
 * 0.024d, plus 0.11(d − 177.3) beyond 177.3 ms, where conversation starts to suffer.
 */
export function delayImpairment(oneWayMs: number): number {
  const d = Math.max(0, oneWayMs);
  return 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0);
}

/**
 * Ie,eff, the equipment impairment under loss, G.107 eq. 7-29 with random loss (BurstR = 1, as the
 * readings do not say how bursty the loss was): Ie + (95 − Ie)·Ppl / (Ppl + Bpl), Ppl in percent.
 */
export function lossImpairment(fractionLost: number, codec: CodecImpairment): number {
  const ppl = Math.min(100, Math.max(0, fractionLost * 100));
  return codec.ie + ((95 - codec.ie) * ppl) / (ppl + codec.bpl);
}

/**
 * The one-way delay a reading implies: half the RTT, a jitter buffer twice the jitter deep (as
 * LiveKit's and Twilio's scorers size it) and one packet of audio.
 */
export function oneWayDelayMs(reading: NetworkReading, codec: CodecImpairment): number {
  return Math.max(0, reading.rttMs) / 2 + 2 * Math.max(0, reading.jitterMs) + codec.packetMs;
}

/** The rating R (0–100) of a reading. */
export function rFactor(reading: NetworkReading, codec: CodecImpairment = opus): number {
  const r = defaultR - delayImpairment(oneWayDelayMs(reading, codec)) - lossImpairment(reading.fractionLost, codec);
  return Math.min(100, Math.max(0, r));
}

/** The MOS estimate (1–4.5) of a reading. */
export function mosOf(reading: NetworkReading, codec: CodecImpairment = opus): number {
  return mosFromR(rFactor(reading, codec));
}

/** A MOS in words. */
export type Verdict = "good" | "fair" | "poor";

/**
 * The words for a MOS, from G.109's user-satisfaction bands of R (Table 1): R ≥ 70 (MOS ≥ 3.6) leaves
 * at most some users dissatisfied: good; 60–70 (MOS 3.1–3.6) many dissatisfied: fair; below, nearly
 * all: poor. Twilio Voice Insights warns from MOS < 3.5, in the fair band.
 */
export function verdictOf(mos: number): Verdict {
  if (mos >= mosFromR(70)) return "good";
  if (mos >= mosFromR(60)) return "fair";
  return "poor";
}
