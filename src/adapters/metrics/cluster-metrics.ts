/** Prometheus metrics of running calls across nodes (docs/style.md 15), on an injected registry. */
import { Counter, Histogram, type Registry } from "prom-client";
import type { ClusterMetrics } from "../../app/ports/metrics.ts";

const phases = ["ringing", "connecting", "connected"] as const;
const requestKinds = ["command", "notice"] as const;
const handoffResults = ["moved", "expired", "failed"] as const;

/** Creates and registers the cluster metrics of one node. */
export function createClusterMetrics(registry: Registry): ClusterMetrics {
  const registers = [registry];
  const metrics = {
    callsAdopted: new Counter({
      name: "calldrop_calls_taken_over_total",
      help: "Calls this node took over from a node that left, by the phase they were in.",
      labelNames: ["phase"] as const,
      registers,
    }),
    forwardDuration: new Histogram({
      name: "calldrop_forward_duration_seconds",
      help: "Round trip of a request forwarded to the node running a call, by kind.",
      labelNames: ["kind"] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    }),
    forwardRetries: new Counter({
      name: "calldrop_forward_retries_total",
      help: "Forwarded requests sent again after the node running the call changed or left.",
      registers,
    }),
    handoffs: new Counter({
      name: "calldrop_session_handoffs_total",
      help: "Sessions resumed on this node that lived on another node, by result.",
      labelNames: ["result"] as const,
      registers,
    }),
    undeliverable: new Counter({
      name: "calldrop_undeliverable_events_total",
      help: "Events for a device with no session anywhere (queued for a call participant, else dropped).",
      registers,
    }),
  };
  for (const phase of phases) metrics.callsAdopted.inc({ phase }, 0);
  for (const kind of requestKinds) metrics.forwardDuration.zero({ kind });
  for (const result of handoffResults) metrics.handoffs.inc({ result }, 0);
  return metrics;
}
