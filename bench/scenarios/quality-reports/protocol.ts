/** What the quality-reports load generator does in one phase. */
export type QualitySpec = {
  port: number;
  /** Connected calls (caller/callee device pairs, each device its own user and connection). */
  calls: number;
  /** Each device sends one command this often (random phase per device). */
  everyMs: number;
  /** quality: a quality report per command; relay: an offer/answer description of `sdpBytes` to the peer. */
  kind: "quality" | "relay";
  sdpBytes: number;
  warmupMs: number;
  measureMs: number;
};

/** The load generator's report of the window. */
export type QualityResult = {
  measuredMs: number;
  /** Commands sent in the window. */
  sent: number;
  /** Their command_results (or errors) received in the window. */
  acked: number;
  /** Relayed descriptions the peers received in the window. */
  relayedReceived: number;
  /** Quality-sample store writes the server made in the window (its /metrics, add_sample_window). */
  sampleWrites: number;
  errors: number;
  errorSamples: string[];
  openMs: number;
};
