/**
 * Notification delivery metrics (docs/spec.md §11): one counter by kind, channel and
 * result, and the outbox backlog. Registered on the injected registry; a second
 * call with the same registry reuses the metrics already there (the push and log
 * notifiers may share one registry).
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { NotificationChannel, NotificationMetrics, NotificationResult } from "../../app/ports/metrics.ts";
import type { Notification } from "../../domain/call-types.ts";

const kinds: readonly Notification["kind"][] = ["incoming_call", "missed_call", "stop_ringing"];
const channels: readonly NotificationChannel[] = ["webpush", "gateway", "apns", "fcm", "log"];
const results: readonly NotificationResult[] = ["sent", "failed", "dropped"];

const totalName = "calldrop_notifications_total";
const pendingName = "calldrop_notification_outbox_pending";

/** Creates (or finds) the notification metrics on `registry`, every known label set at 0. */
export function createNotificationMetrics(registry: Registry): NotificationMetrics {
  const total =
    (registry.getSingleMetric(totalName) as Counter<"kind" | "channel" | "result"> | undefined) ??
    new Counter({
      name: totalName,
      help: "Notifications per device by kind, channel (webpush, gateway, apns, fcm, log) and result (sent, failed, dropped).",
      labelNames: ["kind", "channel", "result"] as const,
      registers: [registry],
    });
  const pending =
    (registry.getSingleMetric(pendingName) as Gauge | undefined) ??
    new Gauge({
      name: pendingName,
      help: "Notifications in the outbox not yet delivered, failed or dropped.",
      registers: [registry],
    });
  for (const kind of kinds)
    for (const channel of channels) for (const result of results) total.inc({ kind, channel, result }, 0);
  return {
    count: (kind, channel, result) => total.inc({ kind, channel, result }),
    setPending: (n) => pending.set(n),
  };
}
