/**
 * Webhook delivery metrics (docs/spec.md §9 "Webhooks", §11), by endpoint name (a closed set from
 * config) in the label `webhook` (Prometheus Operator sets `endpoint` on every scraped series): attempts by what they got, deliveries and dead letters, the lag from an event's fact to
 * its delivery, and the partitions this node delivers (over a cluster each endpoint sums to 16).
 * Every configured endpoint and known label value starts at 0.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { WebhookMetrics } from "../../app/ports/metrics.ts";
import type { AttemptResult } from "../../domain/webhooks.ts";

const attemptResults = ["2xx", "3xx", "4xx", "5xx", "timeout", "network"] as const;

/** The `result` label of an attempt. */
function attemptLabel(r: AttemptResult): (typeof attemptResults)[number] {
  if (r.status !== undefined) return `${Math.min(5, Math.max(2, Math.floor(r.status / 100)))}xx` as "2xx";
  return r.result === "retry" && r.error === "timeout" ? "timeout" : "network";
}

/** Creates and registers the metrics for the configured `endpoints` on `registry`. */
export function createWebhookMetrics(registry: Registry, endpoints: readonly string[]): WebhookMetrics {
  const registers = [registry];
  const attempts = new Counter({
    name: "calldrop_webhook_attempts_total",
    help: "Webhook HTTP attempts, by endpoint and result (status class, timeout or network error).",
    labelNames: ["webhook", "result"] as const,
    registers,
  });
  const deliveries = new Counter({
    name: "calldrop_webhook_deliveries_total",
    help: "Webhook events done with, by endpoint and result: delivered (2xx) or dead_lettered.",
    labelNames: ["webhook", "result"] as const,
    registers,
  });
  const deadLetters = new Counter({
    name: "calldrop_webhook_dead_letters_total",
    help: "Webhook events dead-lettered, by endpoint and reason: exhausted (every attempt failed) or rejected (4xx).",
    labelNames: ["webhook", "reason"] as const,
    registers,
  });
  const lag = new Histogram({
    name: "calldrop_webhook_delivery_lag_seconds",
    help: "From a call event's fact to its delivery to a webhook endpoint (retries included).",
    labelNames: ["webhook"] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200],
    registers,
  });
  const owned = new Gauge({
    name: "calldrop_webhook_partitions_owned",
    help: "Event log partitions this node delivers to each webhook endpoint (16 per endpoint over the cluster).",
    labelNames: ["webhook"] as const,
    registers,
  });
  for (const endpoint of endpoints) {
    for (const result of attemptResults) attempts.inc({ webhook: endpoint, result }, 0);
    for (const result of ["delivered", "dead_lettered"]) deliveries.inc({ webhook: endpoint, result }, 0);
    for (const reason of ["exhausted", "rejected"]) deadLetters.inc({ webhook: endpoint, reason }, 0);
    owned.set({ webhook: endpoint }, 0);
  }
  return {
    attempted: (endpoint, result) => attempts.inc({ webhook: endpoint, result: attemptLabel(result) }),
    delivered(endpoint, lagMs) {
      deliveries.inc({ webhook: endpoint, result: "delivered" });
      lag.observe({ webhook: endpoint }, Math.max(0, lagMs) / 1000);
    },
    deadLettered(endpoint, reason) {
      deliveries.inc({ webhook: endpoint, result: "dead_lettered" });
      deadLetters.inc({ webhook: endpoint, reason });
    },
    owned: (endpoint, delta) => owned.inc({ webhook: endpoint }, delta),
  };
}
