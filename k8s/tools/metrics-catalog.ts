/**
 * The metrics the CallDrop server exports (the contract between src/ and the dashboards and
 * alert rules in k8s/). Label values are listed where the set is closed, so a typo such as
 * outcome="complete" in a rule is caught instead of silently matching nothing.
 */

/** One exported metric family. */
export interface MetricFamily {
  type: "counter" | "gauge" | "histogram";
  /** Label name → allowed values, or null when values are open (e.g. method names). */
  labels: Record<string, readonly string[] | null>;
}

const CALL_EVENT_KINDS = ["started", "answered", "ended"] as const;
const OUTCOMES = ["completed", "missed", "declined", "cancelled", "busy", "unreachable", "failed"] as const;
/** Connect code names as the server writes them into the `code` label. */
export const RPC_CODES = [
  "ok",
  "canceled",
  "unknown",
  "invalid_argument",
  "deadline_exceeded",
  "not_found",
  "already_exists",
  "permission_denied",
  "resource_exhausted",
  "failed_precondition",
  "aborted",
  "out_of_range",
  "unimplemented",
  "internal",
  "unavailable",
  "data_loss",
  "unauthenticated",
] as const;

/** Every exported family by name (counters include their `_total` suffix). */
export const METRICS: Readonly<Record<string, MetricFamily>> = {
  calldrop_rpc_started_total: { type: "counter", labels: { service: null, method: null } },
  calldrop_rpc_handled_total: { type: "counter", labels: { service: null, method: null, code: RPC_CODES } },
  calldrop_rpc_duration_seconds: { type: "histogram", labels: { service: null, method: null } },
  calldrop_rpc_in_flight: { type: "gauge", labels: { service: null, method: null } },
  calldrop_signal_hop_seconds: { type: "histogram", labels: {} },
  calldrop_call_setup_seconds: {
    type: "histogram",
    labels: { phase: ["start_to_ringing", "accept_to_connected"], path: ["p2p", "relay", "none"] },
  },
  calldrop_calls_started_total: { type: "counter", labels: {} },
  calldrop_calls_ended_total: { type: "counter", labels: { outcome: OUTCOMES } },
  calldrop_calls_active: { type: "gauge", labels: {} },
  calldrop_sessions_connected: { type: "gauge", labels: { transport: ["grpc", "connect"] } },
  calldrop_media_path_total: { type: "counter", labels: { path: ["p2p", "relay"] } },
  calldrop_call_ratings_total: { type: "counter", labels: { score: ["1", "2", "3", "4", "5"] } },
  calldrop_call_rating_reasons_total: {
    type: "counter",
    labels: { reason: ["audio_choppy", "video_frozen", "echo", "could_not_hear", "dropped", "other"] },
  },
  calldrop_notifications_total: {
    type: "counter",
    labels: {
      kind: ["incoming_call", "missed_call", "stop_ringing"],
      channel: ["webpush", "gateway", "apns", "fcm", "log"],
      result: ["sent", "failed", "dropped"],
    },
  },
  calldrop_store_operation_seconds: { type: "histogram", labels: { store: null, operation: null } },
  calldrop_store_errors_total: { type: "counter", labels: { store: null, operation: null } },
  calldrop_relay_frames_sent_total: { type: "counter", labels: {} },
  calldrop_relay_queue_full_total: { type: "counter", labels: {} },
  calldrop_relay_frames_lost_total: { type: "counter", labels: {} },
  calldrop_relay_ack_seconds: { type: "histogram", labels: {} },
  calldrop_rate_limited_total: { type: "counter", labels: { kind: null } },
  calldrop_build_info: { type: "gauge", labels: { version: null, node_version: null } },
  calldrop_call_event_subscribers: { type: "gauge", labels: { group: null } },
  calldrop_call_events_streamed_total: { type: "counter", labels: { group: null, kind: CALL_EVENT_KINDS } },
  calldrop_call_event_lag_seconds: { type: "histogram", labels: {} },
  calldrop_webhook_attempts_total: {
    type: "counter",
    labels: { webhook: null, result: ["2xx", "3xx", "4xx", "5xx", "timeout", "network"] },
  },
  calldrop_webhook_deliveries_total: {
    type: "counter",
    labels: { webhook: null, result: ["delivered", "dead_lettered"] },
  },
  calldrop_webhook_dead_letters_total: {
    type: "counter",
    labels: { webhook: null, reason: ["exhausted", "rejected"] },
  },
  calldrop_webhook_delivery_lag_seconds: { type: "histogram", labels: { webhook: null } },
  calldrop_webhook_partitions_owned: { type: "gauge", labels: { webhook: null } },
};

/** Labels Prometheus (Operator) attaches to every scraped series. */
export const TARGET_LABELS = ["job", "instance", "namespace", "pod", "service", "container", "endpoint"] as const;

/**
 * Series Prometheus itself produces that rules may use, with the reason: `up` is the only way
 * to see that no pod is being scraped at all.
 */
export const PROMETHEUS_SERIES: Readonly<Record<string, MetricFamily>> = {
  up: { type: "gauge", labels: {} },
};

/** The family of a series name (histograms answer for _bucket, _sum and _count). */
export function familyOf(series: string): { name: string; family: MetricFamily; bucket: boolean } | undefined {
  const direct = METRICS[series] ?? PROMETHEUS_SERIES[series];
  if (direct) return { name: series, family: direct, bucket: false };
  const m = /^(.*)_(bucket|sum|count)$/.exec(series);
  const base = m?.[1] ? METRICS[m[1]] : undefined;
  if (m?.[1] && base?.type === "histogram") return { name: m[1], family: base, bucket: m[2] === "bucket" };
  return undefined;
}
