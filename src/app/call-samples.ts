/**
 * A call's quality reports on the node that runs it (docs/spec.md §7 "Sample windows"): each is
 * kept for the summary the call ends with and rolled up into the call's open window, which is
 * written as one row when sealed (sample-rollup.ts), at the latest when the call ends (before its
 * finalize, on the same write chain) or the node drains. A node taking a call over starts from the
 * samples stored so far.
 */
import type { Logger } from "pino";
import type { QualitySample } from "../domain/quality.ts";
import { addSample, type RollupPolicy, type RollupStep, seal, type UserSample } from "../domain/sample-rollup.ts";
import type { CallEffects, CallEntry } from "./call-effects.ts";
import type { CallStore } from "./ports/call-store.ts";
import type { Clock } from "./ports/clock.ts";

/** Collaborators of a node's sample handling. */
export interface CallSamplesDeps {
  /** Names this owner in window keys. */
  readonly nodeId: string;
  readonly clock: Clock;
  readonly store: Pick<CallStore, "addSampleWindow" | "listSamples">;
  readonly policy: RollupPolicy;
  /** Samples kept in memory per call for the summary. */
  readonly maxSamplesPerCall: number;
  readonly logger: Pick<Logger, "warn">;
}

/** Sample handling of one node. */
export interface CallSamples {
  /** A participant's report; its window's write, when this report sealed one, is chained behind the call's writes. */
  report(e: CallEntry, userId: string, sample: QualitySample): void;
  /** Writes the call's open window now (call end, drain). */
  sealOpen(e: CallEntry): void;
  /** What is stored of an adopted call's samples, for its summary ([] when unreadable). */
  stored(callId: string): Promise<UserSample[]>;
}

/** Creates the sample handling; `write` is the call effects' chained store write. */
export function createCallSamples(deps: CallSamplesDeps, write: CallEffects["write"]): CallSamples {
  const { nodeId, clock, store, policy } = deps;

  function keep(e: CallEntry, step: RollupStep): void {
    e.rollup = step.rollup;
    const window = step.sealed;
    if (!window) return;
    // Not awaited by the report: a failure is counted and logged by `write`.
    write(e, "add_sample_window", () => store.addSampleWindow(e.state.call.callId, window)).catch(() => {});
  }

  return {
    report(e, userId, sample) {
      const s = { ...sample, userId };
      if (e.samples.length < deps.maxSamplesPerCall) e.samples.push(s);
      keep(e, addSample(e.rollup, s, clock.now(), policy, nodeId));
      // A late report of an ended call is written at once: nothing would seal its window later.
      if (e.state.phase === "ended") keep(e, seal(e.rollup, nodeId));
    },
    sealOpen(e) {
      keep(e, seal(e.rollup, nodeId));
    },
    async stored(callId) {
      try {
        return (await store.listSamples(callId)).slice(0, deps.maxSamplesPerCall);
      } catch (err) {
        deps.logger.warn({ err, callId }, "stored samples of an adopted call unreadable: its summary starts here");
        return [];
      }
    },
  };
}
