import type { LoadSpec, ServerKind } from "./protocol.ts";

/** A phase's load without the per-server target (transport and port are filled in per server). */
export type PhaseLoad =
  | Omit<Extract<LoadSpec, { mode: "idle" }>, "transport" | "port">
  | Omit<Extract<LoadSpec, { mode: "saturated" }>, "transport" | "port">
  | Omit<Extract<LoadSpec, { mode: "paced" }>, "transport" | "port">;

/** One phase of the scenario, run against every server. */
export type Phase = { name: string; load: PhaseLoad };

/**
 * The phases, in run order. Idle comes first so the per-stream memory is measured on a fresh
 * server (a heap that already grew under load would absorb new streams without RSS growth).
 */
export function planPhases(quick: boolean): Phase[] {
  const s = quick ? { warmupMs: 1000, measureMs: 3000 } : { warmupMs: 2000, measureMs: 10_000 };
  return [
    { name: `idle ${quick ? 500 : 1000} streams`, load: { mode: "idle", pairs: quick ? 250 : 500 } },
    { name: "saturated 1 pair x 32 in flight", load: { mode: "saturated", pairs: 1, inFlight: 32, ...s } },
    { name: "saturated 500 pairs x 2 in flight", load: { mode: "saturated", pairs: 500, inFlight: 2, ...s } },
    {
      name: "paced 500 pairs x 1 rt/s",
      load: { mode: "paced", pairs: 500, roundTripsPerSecond: 1, warmupMs: 2000, measureMs: quick ? 6000 : 30_000 },
    },
  ];
}

/**
 * Rounds of the load phases. Each round runs every phase against every server back to back
 * (alternating the server order), so that load from other users of the shared machine hits
 * the servers alike; the report keeps the least contended round per cell.
 */
export function planRounds(quick: boolean): number {
  return quick ? 1 : 2;
}

/** Rough wall time of one phase in seconds (for the progress bar). */
export function phaseSeconds(phase: Phase): number {
  const open = phase.load.pairs >= 100 ? 2 : 0.5;
  if (phase.load.mode === "idle") return open + 3;
  return open + (phase.load.warmupMs + phase.load.measureMs) / 1000 + 1.5;
}

/** The servers in run order, and which client transport talks to each. */
export const servers: { kind: ServerKind; transport: "grpc" | "ws" }[] = [
  { kind: "connect-node", transport: "grpc" },
  { kind: "grpc-js", transport: "grpc" },
  { kind: "peerjs", transport: "ws" },
];
