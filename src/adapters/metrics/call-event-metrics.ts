/**
 * Call event stream metrics (docs/spec.md §9 "Call events", §11): open Subscribe streams and
 * events sent, by consumer group (a closed set from config) and kind, and how long after its fact
 * an event reached its consumer. Every configured group and kind starts at 0.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { CallEventMetrics } from "../../app/ports/metrics.ts";
import { callEventKinds } from "../../domain/call-events.ts";

/** Creates and registers the metrics for the configured `groups` on `registry`. */
export function createCallEventMetrics(registry: Registry, groups: readonly string[]): CallEventMetrics {
  const registers = [registry];
  const subscribers = new Gauge({
    name: "calldrop_call_event_subscribers",
    help: "Open CallEventsService.Subscribe streams on this node, by consumer group.",
    labelNames: ["group"] as const,
    registers,
  });
  const streamed = new Counter({
    name: "calldrop_call_events_streamed_total",
    help: "Call events sent to consumers by this node, by consumer group and kind.",
    labelNames: ["group", "kind"] as const,
    registers,
  });
  const lag = new Histogram({
    name: "calldrop_call_event_lag_seconds",
    help: "From a call event's fact (ring start, answer, end) to its sending to a consumer.",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers,
  });
  for (const group of groups) {
    subscribers.set({ group }, 0);
    for (const kind of callEventKinds) streamed.inc({ group, kind }, 0);
  }
  return {
    subscribed: (group, delta) => subscribers.inc({ group }, delta),
    streamed(group, kind, lagMs) {
      streamed.inc({ group, kind });
      lag.observe(Math.max(0, lagMs) / 1000);
    },
  };
}
