/**
 * Waiting for a state that another process, a stream or a real timer writes (docs/style.md 20:
 * tests wait for states, never for the clock): polls `probe` until it returns a value,
 * with a deadline. On timeout the error names what was awaited, the last probe error and,
 * if given, the state at that moment, so a failure says what was missing instead of
 * "condition not met".
 */
import { setTimeout as delay } from "node:timers/promises";

/** What to wait for, for how long, and how to describe the state on timeout. */
export interface WaitOptions {
  /** What is awaited, as a phrase: "the missed-call push to bob's phone". */
  readonly what: string;
  /** Deadline; default 10 s (a loaded machine can be slow, a wait for a state costs nothing when it holds). */
  readonly timeoutMs?: number;
  /** Poll interval; default 50 ms. */
  readonly intervalMs?: number;
  /** The state to report on timeout (e.g. the rows seen). */
  readonly state?: () => unknown;
}

/**
 * Resolves with the first value `probe` returns that is neither undefined nor false. A probe
 * that throws counts as "not yet" (e.g. a server still restarting); the last error is reported
 * on timeout.
 */
export async function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  options: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError === undefined ? "" : `; last error: ${String(lastError)}`;
      const state = options.state ? `; state: ${JSON.stringify(await options.state())}` : "";
      throw new Error(`timed out after ${options.timeoutMs ?? 10_000} ms waiting for ${options.what}${why}${state}`);
    }
    await delay(options.intervalMs ?? 50);
  }
}
