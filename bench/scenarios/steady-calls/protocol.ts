import type { LatencySummary } from "../../lib/stats.ts";

/** What the steady-calls load generator does. */
export type SteadySpec = {
  port: number;
  /** Concurrent call slots (caller/callee device pairs). */
  calls: number;
  /** Slots start spread over this time (so call setup is not one burst). */
  rampMs: number;
  /** From the end of the ramp to the window. */
  warmupMs: number;
  measureMs: number;
  /** Connected calls last a uniform random time in [min, max], then the caller hangs up and the slot calls again. */
  holdMs: [number, number];
  candidatesPerSide: number;
  /** Gap between one side's trickled candidates. */
  candidateGapMs: number;
  qualityEveryMs: number;
  sdpBytes: number;
};

/** The load generator's report of the window. */
export type SteadyResult = {
  measuredMs: number;
  /** One hop sender → server → peer of offer/answer descriptions received in the window, ms. */
  descriptionHop: LatencySummary;
  /** Same for trickled ICE candidates. */
  candidateHop: LatencySummary;
  /** All relayed hops together (descriptions and candidates). */
  hop: LatencySummary;
  /** startCall → ringing at the caller (calls started in the window), ms. */
  startToRinging: LatencySummary;
  /** startCall → callAccepted at the caller, ms. */
  startToAccepted: LatencySummary;
  /** Command sent → its command_result (or error) back at the sender: the server's round trip, ms. */
  ack: LatencySummary;
  /** Client → server commands sent and server → client events received in the window. */
  commandsSent: number;
  eventsReceived: number;
  relayedReceived: number;
  qualityReports: number;
  callsStarted: number;
  callsCompleted: number;
  /** Calls in the connected phase, sampled every second in the window. */
  connectedCalls: { min: number; mean: number };
  errors: number;
  errorSamples: string[];
  openMs: number;
};
