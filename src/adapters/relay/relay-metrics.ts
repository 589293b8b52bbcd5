/** Prometheus metrics of node-to-node relay (docs/style.md 15), on an injected registry; one set per process. */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** Creates and registers the relay metrics (shared by all links and the server of a node). */
export function createRelayMetrics(registry: Registry) {
  const registers = [registry];
  const metrics = {
    framesSent: new Counter({
      name: "calldrop_relay_frames_sent_total",
      help: "Frames queued on outbound links.",
      registers,
    }),
    framesResent: new Counter({
      name: "calldrop_relay_frames_resent_total",
      help: "Unacknowledged frames sent again on a new stream after a reconnect.",
      registers,
    }),
    framesReceived: new Counter({
      name: "calldrop_relay_frames_received_total",
      help: "Frames received, by result: delivered, or duplicate (dropped).",
      labelNames: ["result"] as const,
      registers,
    }),
    gaps: new Counter({ name: "calldrop_relay_gaps_total", help: "Holes detected in a link's sequence.", registers }),
    framesLost: new Counter({
      name: "calldrop_relay_frames_lost_total",
      help: "Frames missing in detected holes.",
      registers,
    }),
    queueFull: new Counter({
      name: "calldrop_relay_queue_full_total",
      help: "Frames refused because the link's unacknowledged queue was full.",
      registers,
    }),
    framesDropped: new Counter({
      name: "calldrop_relay_frames_dropped_total",
      help: "Unacknowledged frames discarded with the link of a node that left.",
      registers,
    }),
    unacked: new Gauge({
      name: "calldrop_relay_unacked_frames",
      help: "Frames sent and not yet acknowledged.",
      registers,
    }),
    reconnects: new Counter({
      name: "calldrop_relay_stream_failures_total",
      help: "Outbound relay streams that ended or failed (each is followed by a reconnect when frames wait).",
      registers,
    }),
    authFailures: new Counter({
      name: "calldrop_relay_auth_failures_total",
      help: "Inbound relay streams refused as unauthenticated.",
      registers,
    }),
    ackLatency: new Histogram({
      name: "calldrop_relay_ack_seconds",
      help: "Time from queuing a frame to its acknowledgement (forwarding round trip).",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers,
    }),
  };
  for (const result of ["delivered", "duplicate"]) metrics.framesReceived.inc({ result }, 0);
  return metrics;
}

/** The relay metrics object. */
export type RelayMetrics = ReturnType<typeof createRelayMetrics>;
