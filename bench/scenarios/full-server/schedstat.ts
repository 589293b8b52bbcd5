import { readFileSync } from "node:fs";

/** Scheduler figures of a process's main thread (its event loop), from /proc/<pid>/schedstat. */
export type SchedSample = { atMs: number; runNs: number; waitNs: number };

/** Parses `/proc/<pid>/schedstat`: "<ns on cpu> <ns waiting on a run queue> <timeslices>". */
export function parseSchedstat(text: string): { runNs: number; waitNs: number } {
  const [run, wait] = text.trim().split(/\s+/).map(Number);
  if (!Number.isFinite(run) || !Number.isFinite(wait)) throw new Error(`unparsable schedstat: ${text}`);
  return { runNs: run as number, waitNs: wait as number };
}

/** Reads the main thread's scheduler figures now. */
export function readSched(pid: number): SchedSample {
  return { atMs: performance.now(), ...parseSchedstat(readFileSync(`/proc/${pid}/schedstat`, "utf8")) };
}

/**
 * Share of wall time the main thread spent runnable but waiting for a CPU, in % (0–100):
 * the direct measure of how much other load on the machine delayed the event loop.
 */
export function waitPercent(from: SchedSample, to: SchedSample): number {
  const wallNs = (to.atMs - from.atMs) * 1e6;
  return wallNs > 0 ? ((to.waitNs - from.waitNs) / wallNs) * 100 : 0;
}
