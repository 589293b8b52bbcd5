import type { Phase } from "../relay-transport/plan.ts";

/** The servers side by side: the full server on both HTTP/2 engines, and the two anchors. */
export const compareServers = [
  { name: "calldrop grpc-js", kind: "calldrop", engine: "grpc-js", transport: "calldrop" },
  { name: "calldrop connect-node", kind: "calldrop", engine: "connect-node", transport: "calldrop" },
  { name: "bare grpc-js", kind: "grpc-js", transport: "grpc" },
  { name: "peerjs", kind: "peerjs", transport: "ws" },
] as const;

/** One of `compareServers`' names. */
export type CompareServerName = (typeof compareServers)[number]["name"];

/** Relayed-message rate of the paced phase per pair: 2 relayed messages per round trip. */
export function pacedRoundTripsPerSecond(_quick: boolean): number {
  return 4;
}

/**
 * The phases: saturated (closed loop, what each server can relay: the §12 throughput bars) and
 * paced (a fixed open-loop rate the same for every server: latency under load, the §12 p99 bar).
 * 500 pairs = 1000 streams, the PeerJS reference point of §12 ("~23k/s with 1000 peers").
 */
export function planComparePhases(quick: boolean): Phase[] {
  const pairs = quick ? 250 : 500;
  const rate = pacedRoundTripsPerSecond(quick);
  return [
    {
      name: `saturated ${pairs} pairs x 2 in flight`,
      load: quick
        ? { mode: "saturated", pairs, inFlight: 2, warmupMs: 1000, measureMs: 2500 }
        : { mode: "saturated", pairs, inFlight: 2, warmupMs: 2000, measureMs: 6000 },
    },
    {
      name: `paced ${pairs} pairs x ${rate} rt/s (${(pairs * rate * 2).toLocaleString("en-US")} msg/s)`,
      load: quick
        ? { mode: "paced", pairs, roundTripsPerSecond: rate, warmupMs: 1000, measureMs: 3000 }
        : { mode: "paced", pairs, roundTripsPerSecond: rate, warmupMs: 2000, measureMs: 10_000 },
    },
  ];
}

/** Rounds (each runs every phase on every server, alternating server order); the least contended is reported. */
export function compareRounds(quick: boolean): number {
  return quick ? 1 : 2;
}

/** Rough seconds of one phase on one server (opening pairs includes call setup on the full server). */
export function comparePhaseSeconds(phase: Phase): number {
  if (phase.load.mode === "idle") return 4;
  return 1.5 + phase.load.pairs / 250 + (phase.load.warmupMs + phase.load.measureMs) / 1000 + 1.5;
}
