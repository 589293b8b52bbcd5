import type { LatencySummary } from "../../lib/stats.ts";

/** What the call-storm load generator does. */
export type StormSpec = {
  port: number;
  /** Caller/callee device pairs; each pair has at most one call at a time (closed loop). */
  pairs: number;
  warmupMs: number;
  measureMs: number;
  /** No call is started after this many (the run is bounded in work as well as time). */
  maxCalls: number;
};

/** The load generator's report. */
export type StormResult = {
  /** Calls started in the window. */
  started: number;
  /** Calls started in the window that ended COMPLETED (start → ring → accept → hangup). */
  completed: number;
  /** Calls that completed inside the window (whenever they started), the sustained rate's numerator. */
  completedInWindow: number;
  measuredMs: number;
  /** startCall sent → `ringing` received by the caller, ms. */
  startToRinging: LatencySummary;
  /** startCall sent → `incomingCall` received by the callee (the ring hop), ms. */
  startToIncoming: LatencySummary;
  /** startCall sent → `callAccepted` received by the caller (the callee accepts at once), ms. */
  startToAccepted: LatencySummary;
  /** Client → server commands and server → client events counted in the window. */
  commandsSent: number;
  eventsReceived: number;
  /** Calls that ended with another outcome than COMPLETED, by outcome number. */
  otherOutcomes: Record<string, number>;
  errors: number;
  errorSamples: string[];
  /** Calls still in progress after the drain period. */
  unfinished: number;
  openMs: number;
};
