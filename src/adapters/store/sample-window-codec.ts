/**
 * The compact text both stores keep a sample window in (docs/spec.md §7 "Sample windows"): JSON
 * of the window's users and one array per sample with the fields in a fixed order, times as
 * offsets from the first sample. About a third of the bytes of one JSON object per sample.
 */
import type { PathType, RelayProtocol } from "../../domain/call-types.ts";
import type { UserSample } from "../../domain/sample-rollup.ts";

/** One sample: user index, then the QualitySample fields in this order; path and relay protocol null when absent. */
type Packed = [
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  string,
  string | null,
  string | null,
];

interface Encoded {
  /** Format version. */
  readonly v: 1;
  readonly t0: number;
  readonly u: readonly string[];
  readonly s: readonly Packed[];
}

/** Encodes a window's samples. */
export function encodeSampleWindow(samples: readonly UserSample[]): string {
  const users: string[] = [];
  const t0 = samples[0]?.atMs ?? 0;
  const s = samples.map((x): Packed => {
    let u = users.indexOf(x.userId);
    if (u < 0) u = users.push(x.userId) - 1;
    return [
      u,
      x.atMs - t0,
      x.fractionLost,
      x.jitterMs,
      x.rttMs,
      x.availableOutgoingBitrateBps,
      x.sentBitrateBps,
      x.frameWidth,
      x.frameHeight,
      x.framesPerSecond,
      x.qualityStep,
      x.qualityLimitationReason,
      x.path ?? null,
      x.relayProtocol ?? null,
    ];
  });
  const encoded: Encoded = { v: 1, t0, u: users, s };
  return JSON.stringify(encoded);
}

/** Decodes what `encodeSampleWindow` wrote. */
export function decodeSampleWindow(text: string): UserSample[] {
  const { t0, u, s } = JSON.parse(text) as Encoded;
  return s.map(([user, dt, fractionLost, jitterMs, rttMs, avail, sent, w, h, fps, step, reason, path, relay]) => ({
    userId: u[user] ?? "",
    atMs: t0 + dt,
    fractionLost,
    jitterMs,
    rttMs,
    availableOutgoingBitrateBps: avail,
    sentBitrateBps: sent,
    frameWidth: w,
    frameHeight: h,
    framesPerSecond: fps,
    qualityStep: step,
    qualityLimitationReason: reason,
    ...(path ? { path: path as PathType } : {}),
    ...(relay ? { relayProtocol: relay as RelayProtocol } : {}),
  }));
}
