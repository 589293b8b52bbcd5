/**
 * Quality samples rolled up per call on the node that runs it (docs/spec.md §7 "Sample windows"):
 * reports gather in the call's open window, which is sealed, to be stored as one row, when it
 * is `windowMs` old at a report or at a sweep, when it holds `maxSamplesPerWindow` samples, and
 * when the call ends or the node drains. A window holds the samples of both participants in
 * arrival order. Pure: time comes in as `nowMs`.
 */
import type { QualitySample } from "./quality.ts";

/** A sample and the participant who reported it. */
export type UserSample = QualitySample & { readonly userId: string };

/** A sealed window: one store row. */
export interface SampleWindow {
  /** Unique within the call, the same on every retry of its write: opening time, writer, sequence. */
  readonly key: string;
  readonly samples: readonly UserSample[];
}

/** How windows are cut. */
export interface RollupPolicy {
  /** Age at which a window is sealed; 0 stores each report as a window of its own. */
  readonly windowMs: number;
  /** Samples at which a window is sealed early: bounds a call's buffer. */
  readonly maxSamplesPerWindow: number;
}

/** One call's rollup: the open window, if any, and how many windows it sealed. */
export interface SampleRollup {
  readonly open?: { readonly openedAtMs: number; readonly samples: readonly UserSample[] };
  readonly sealed: number;
}

/** A rollup with no window yet. */
export const emptyRollup: SampleRollup = { sealed: 0 };

/** What a step did: the rollup after it, and the window it sealed, if any. */
export interface RollupStep {
  readonly rollup: SampleRollup;
  readonly sealed?: SampleWindow;
}

/** Adds a report; seals the window when it is full or old enough. `writer` names this owner (node id). */
export function addSample(
  r: SampleRollup,
  sample: UserSample,
  nowMs: number,
  policy: RollupPolicy,
  writer: string,
): RollupStep {
  const open = r.open ?? { openedAtMs: nowMs, samples: [] };
  const next = { ...r, open: { openedAtMs: open.openedAtMs, samples: [...open.samples, sample] } };
  const full = next.open.samples.length >= policy.maxSamplesPerWindow;
  return full || nowMs - open.openedAtMs >= policy.windowMs ? seal(next, writer) : { rollup: next };
}

/** Seals the open window if it is `windowMs` old (the periodic sweep: a call that stopped reporting). */
export function sealIfDue(r: SampleRollup, nowMs: number, policy: RollupPolicy, writer: string): RollupStep {
  return r.open && nowMs - r.open.openedAtMs >= policy.windowMs ? seal(r, writer) : { rollup: r };
}

/** Seals the open window whatever its age (call end, drain). */
export function seal(r: SampleRollup, writer: string): RollupStep {
  if (!r.open || r.open.samples.length === 0) return { rollup: { sealed: r.sealed } };
  const key = `${r.open.openedAtMs}-${writer}-${r.sealed}`;
  return { rollup: { sealed: r.sealed + 1 }, sealed: { key, samples: r.open.samples } };
}

/**
 * The samples of stored windows (and of rows stored one per sample before windows existed) as one
 * list, oldest first: a sample stored twice (the same participant and time) is listed once.
 */
export function expandWindows(windows: readonly (readonly UserSample[])[]): UserSample[] {
  const seen = new Set<string>();
  const out: UserSample[] = [];
  for (const s of windows.flat()) {
    const id = `${s.userId}\u0000${s.atMs}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(s);
  }
  return out.sort((a, b) => a.atMs - b.atMs || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
}
