/**
 * The Cassandra schema of the call store as numbered migrations (applied in order by
 * migrate.ts and recorded in `schema_migrations`). Never edit a released migration: add one.
 *
 * Tables, by query:
 * - calls_by_id: GetCall, and the anchor of the lightweight transactions (answer, outcome).
 * - calls_by_user / missed_calls_by_user: ListCalls, one partition per user and UTC month,
 *   newest first; the missed table holds only the calls the user missed as callee.
 * - call_months_by_user: the months a user has calls in, so pages cross month boundaries
 *   without probing empty months.
 * - call_sample_windows: raw RTCP samples per call, one row per window the call's owner rolled up
 *   (docs/spec.md §7 "Sample windows"), expiring after 30 days; call_samples holds those written
 *   before, one row per sample, and is only read.
 * - ringing_by_deadline: calls without an outcome, by ring-deadline minute (takeover sweeps).
 * - push_devices / push_addresses: devices' push targets by user, and the device holding each
 *   target address (cassandra-push-registry.ts), shared by every node of a cluster.
 * - blocked_users: each user's block list (cassandra-block-list.ts), read at every call start.
 * - call_settings: each user's call settings (cassandra-call-settings.ts), read when a call finds
 *   its callee in a call.
 * - call_events: the call event log (docs/spec.md §9 "Call events"), one partition per log partition
 *   and hour of write time, ordered by write time; kept 7 days. calls_by_id keeps each event's
 *   position (started_pos, answered_pos, ended_pos) so a retried write finds the event it wrote.
 * - webhook_cursors / webhook_dead_letters: where each webhook endpoint's delivery of each log
 *   partition stands, and the events given up on (cassandra-webhook-state.ts, docs/spec.md §9 "Webhooks").
 *
 * The call tables' columns grow by migration (ALTER TABLE … ADD IF NOT EXISTS): rows written
 * before read the new columns as null.
 */

/** One schema version. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  /** Idempotent statements (CREATE … IF NOT EXISTS, ALTER TYPE … ADD IF NOT EXISTS), run in order. */
  readonly statements: readonly string[];
}

const callColumns = `
  caller_user_id text, caller_device_id text, callee_user_id text, video boolean,
  started_at_ms bigint, ring_deadline_ms bigint,
  answered_device_id text, answered_at_ms bigint,
  ended_at_ms bigint, outcome text, end_reason text, path text, setup_ms int,
  quality frozen<quality_summary>`;

/** All migrations, oldest first. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: "calls by id/user/month, missed calls, samples with TTL, ringing index",
    statements: [
      `CREATE TYPE IF NOT EXISTS quality_summary (
         samples int, avg_fraction_lost double, avg_jitter_ms double, avg_rtt_ms double,
         avg_bitrate_bps bigint, resolution_changes int)`,
      `CREATE TABLE IF NOT EXISTS calls_by_id (call_id text PRIMARY KEY, ${callColumns})`,
      `CREATE TABLE IF NOT EXISTS calls_by_user (
         user_id text, month int, call_id text, ${callColumns},
         PRIMARY KEY ((user_id, month), started_at_ms, call_id)
       ) WITH CLUSTERING ORDER BY (started_at_ms DESC, call_id DESC)`,
      `CREATE TABLE IF NOT EXISTS missed_calls_by_user (
         user_id text, month int, call_id text, ${callColumns},
         PRIMARY KEY ((user_id, month), started_at_ms, call_id)
       ) WITH CLUSTERING ORDER BY (started_at_ms DESC, call_id DESC)`,
      `CREATE TABLE IF NOT EXISTS call_months_by_user (
         user_id text, month int, PRIMARY KEY (user_id, month)
       ) WITH CLUSTERING ORDER BY (month DESC)`,
      `CREATE TABLE IF NOT EXISTS call_samples (
         call_id text, at_ms bigint, user_id text,
         fraction_lost double, jitter_ms double, rtt_ms double,
         available_outgoing_bitrate_bps double, sent_bitrate_bps double,
         frame_width int, frame_height int, frames_per_second double,
         quality_step int, quality_limitation_reason text, path text,
         PRIMARY KEY ((call_id), at_ms, user_id)
       ) WITH default_time_to_live = 2592000
         AND compaction = {'class': 'TimeWindowCompactionStrategy', 'compaction_window_unit': 'DAYS', 'compaction_window_size': 1}`,
      `CREATE TABLE IF NOT EXISTS ringing_by_deadline (
         minute bigint, ring_deadline_ms bigint, call_id text,
         PRIMARY KEY ((minute), ring_deadline_ms, call_id)
       ) WITH default_time_to_live = 172800 AND gc_grace_seconds = 3600
         AND compaction = {'class': 'TimeWindowCompactionStrategy', 'compaction_window_unit': 'HOURS', 'compaction_window_size': 1}`,
    ],
  },
  {
    version: 2,
    description: "push registrations by user, and the device holding each target address",
    statements: [
      `CREATE TABLE IF NOT EXISTS push_devices (
         user_id text, device_id text, address text, target text, registered_at_ms bigint,
         PRIMARY KEY ((user_id), device_id))`,
      `CREATE TABLE IF NOT EXISTS push_addresses (
         address text PRIMARY KEY, user_id text, device_id text)`,
    ],
  },
  {
    version: 3,
    description: "block lists",
    statements: [
      `CREATE TABLE IF NOT EXISTS blocked_users (
         user_id text, blocked_user_id text, blocked_at_ms bigint,
         PRIMARY KEY ((user_id), blocked_user_id))`,
    ],
  },
  {
    version: 4,
    description: "quality score in the call's quality summary (docs/spec.md §15)",
    // Rows written before read the new fields as null: a summary without a score.
    statements: [
      "ALTER TYPE quality_summary ADD IF NOT EXISTS median_mos double",
      "ALTER TYPE quality_summary ADD IF NOT EXISTS worst_mos double",
      "ALTER TYPE quality_summary ADD IF NOT EXISTS verdict text",
      "ALTER TYPE quality_summary ADD IF NOT EXISTS poor_network_user_id text",
    ],
  },
  {
    version: 5,
    description: "post-call ratings of caller and callee (docs/spec.md §15)",
    statements: [
      "CREATE TYPE IF NOT EXISTS call_rating (score int, reasons list<text>, comment text, rated_at_ms bigint)",
      ...["calls_by_id", "calls_by_user", "missed_calls_by_user"].flatMap((table) => [
        `ALTER TABLE ${table} ADD IF NOT EXISTS caller_rating frozen<call_rating>`,
        `ALTER TABLE ${table} ADD IF NOT EXISTS callee_rating frozen<call_rating>`,
      ]),
    ],
  },
  {
    version: 6,
    description: "call event log by partition and hour, and each event's position in calls_by_id (docs/spec.md §9)",
    statements: [
      `CREATE TABLE IF NOT EXISTS call_events (
         part int, hour bigint, pos bigint, event_id text, call_id text, kind text,
         PRIMARY KEY ((part, hour), pos, event_id)
       ) WITH default_time_to_live = 604800 AND gc_grace_seconds = 3600
         AND compaction = {'class': 'TimeWindowCompactionStrategy', 'compaction_window_unit': 'HOURS', 'compaction_window_size': 6}`,
      ...["started_pos", "answered_pos", "ended_pos"].map(
        (c) => `ALTER TABLE calls_by_id ADD IF NOT EXISTS ${c} bigint`,
      ),
    ],
  },
  {
    version: 7,
    description: "relay protocol (udp/tcp/tls) of each sample and in the call's quality summary (docs/spec.md §5, §7)",
    // Rows written before read it as null: not relayed, or not known.
    statements: [
      "ALTER TYPE quality_summary ADD IF NOT EXISTS relay_protocol text",
      "ALTER TABLE call_samples ADD IF NOT EXISTS relay_protocol text",
    ],
  },
  {
    version: 8,
    description: "users' call settings: call waiting (docs/spec.md §14)",
    statements: ["CREATE TABLE IF NOT EXISTS call_settings (user_id text PRIMARY KEY, call_waiting boolean)"],
  },
  {
    version: 9,
    description: "quality samples rolled up per call: one row per window (docs/spec.md §7)",
    statements: [
      `CREATE TABLE IF NOT EXISTS call_sample_windows (
         call_id text, window_key text, samples text,
         PRIMARY KEY ((call_id), window_key)
       ) WITH default_time_to_live = 2592000
         AND compaction = {'class': 'TimeWindowCompactionStrategy', 'compaction_window_unit': 'DAYS', 'compaction_window_size': 1}`,
    ],
  },
  {
    version: 10,
    description: "webhook delivery cursors per endpoint and log partition, and dead letters (docs/spec.md §9)",
    statements: [
      `CREATE TABLE IF NOT EXISTS webhook_cursors (
         endpoint text, part int, seq bigint, event_id text,
         pending_event_id text, attempts int, next_attempt_at_ms bigint, last_error text,
         PRIMARY KEY ((endpoint), part))`,
      `CREATE TABLE IF NOT EXISTS webhook_dead_letters (
         endpoint text, event_id text, part int, attempts int, last_error text, dead_at_ms bigint,
         PRIMARY KEY ((endpoint), event_id))`,
    ],
  },
];

/** The version this code reads and writes. */
export const schemaVersion = migrations.length;
