/** The servers compared by this scenario (each runs as its own child process). */
export const serverKinds = ["connect-node", "grpc-js", "peerjs"] as const;
/** One of `serverKinds`. */
export type ServerKind = (typeof serverKinds)[number];

/**
 * Client transport the load generator uses: grpc-js for both gRPC servers, ws for PeerJS,
 * calldrop for the full server (real calls, JWTs; see relay-compare/calldrop-transport.ts).
 */
export type ClientTransport = "grpc" | "ws" | "calldrop";

/** What the load generator does in one phase. */
export type LoadSpec =
  | { mode: "idle"; transport: ClientTransport; port: number; pairs: number }
  | {
      mode: "saturated";
      transport: ClientTransport;
      port: number;
      pairs: number;
      /** Offers each pair keeps outstanding (closed loop). */
      inFlight: number;
      warmupMs: number;
      measureMs: number;
    }
  | {
      mode: "paced";
      transport: ClientTransport;
      port: number;
      pairs: number;
      /** Round trips each pair starts per second (open loop, independent of answers). */
      roundTripsPerSecond: number;
      warmupMs: number;
      measureMs: number;
    };

/** Load generator's report of one measured phase. */
export type LoadResult = {
  /** Round trips (offer A→B and answer B→A, 2 relayed messages) whose offer was sent in the window. */
  roundTrips: number;
  measuredMs: number;
  /** Round-trip latencies in ms of the offers sent in the window (sorted summary). */
  latency: { count: number; mean: number; p50: number; p95: number; p99: number; max: number };
  /** Offers still unanswered after the drain period. */
  unanswered: number;
  /** Stream/socket errors, error events from the server, unexpected messages, failed opens. */
  errors: number;
  /** First few error texts, for the report. */
  errorSamples: string[];
  /** Time to open all streams, ms. */
  openMs: number;
};

/** Server child → harness after listening. */
export type ListeningMessage = { type: "listening"; port: number };
/** Server child → harness after a forced GC, with its heap figures. */
export type GcDoneMessage = { type: "gc-done"; heapUsedBytes: number; externalBytes: number };
