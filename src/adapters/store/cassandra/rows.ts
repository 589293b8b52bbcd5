/**
 * Mapping between Cassandra rows and call-store values, and the time buckets used as
 * partition keys (UTC month of a call's start; minute of a ring deadline).
 */
import type { CallRecord } from "../../../app/ports/call-store.ts";
import type { CallEnd, CallInfo, Outcome, PathType, RelayProtocol } from "../../../domain/call-types.ts";
import type { Verdict } from "../../../domain/mos.ts";
import type { QualitySample, QualitySummary } from "../../../domain/quality.ts";
import type { QualityScore } from "../../../domain/quality-score.ts";
import type { CallRating, RatingReason } from "../../../domain/rating.ts";

/** A row as the driver returns it (bigint columns come back as Long). */
export type Row = { readonly [column: string]: unknown };

/** The yyyymm UTC month a call started in (partition key of the history tables). */
export function monthOf(ms: number): number {
  const d = new Date(ms);
  return d.getUTCFullYear() * 100 + d.getUTCMonth() + 1;
}

/** The ringing-index partition of a ring deadline. */
export function minuteOf(ms: number): number {
  return Math.floor(ms / 60_000);
}

/** The call columns, in the order of `callValues`. */
export const callColumnNames = [
  "caller_user_id",
  "caller_device_id",
  "callee_user_id",
  "video",
  "started_at_ms",
  "ring_deadline_ms",
  "answered_device_id",
  "answered_at_ms",
  "ended_at_ms",
  "outcome",
  "end_reason",
  "path",
  "setup_ms",
  "quality",
  "caller_rating",
  "callee_rating",
] as const;

/** What a row may hold beyond the start: every field is set at most once, never cleared. */
export interface CallFacts {
  readonly answeredDeviceId?: string | undefined;
  readonly answeredAtMs?: number | undefined;
  readonly end?: CallEnd | undefined;
  readonly quality?: QualitySummary | undefined;
  /** A rating replaces an earlier one of the same side (the one column that may change). */
  readonly callerRating?: CallRating | undefined;
  readonly calleeRating?: CallRating | undefined;
}

/** Values for `callColumnNames`; `undefined` = unset, so a write never clears a field. */
export function callValues(call: CallInfo, facts: CallFacts = {}): unknown[] {
  const { end, quality } = facts;
  return [
    call.caller.userId,
    call.caller.deviceId,
    call.calleeUserId,
    call.video,
    call.startedAtMs,
    call.ringDeadlineMs,
    facts.answeredDeviceId ?? end?.answeredDeviceId,
    facts.answeredAtMs ?? end?.answeredAtMs,
    end?.endedAtMs,
    end?.outcome,
    end?.reason,
    end?.path,
    end?.setupMs,
    quality && {
      samples: quality.samples,
      avg_fraction_lost: quality.avgFractionLost,
      avg_jitter_ms: quality.avgJitterMs,
      avg_rtt_ms: quality.avgRttMs,
      avg_bitrate_bps: quality.avgBitrateBps,
      resolution_changes: quality.resolutionChanges,
      median_mos: quality.score?.medianMos,
      worst_mos: quality.score?.worstMos,
      verdict: quality.score?.verdict,
      poor_network_user_id: quality.score?.poorNetworkUserId,
      relay_protocol: quality.relayProtocol,
    },
    ratingValue(facts.callerRating),
    ratingValue(facts.calleeRating),
  ];
}

/** A call_rating value, or undefined (unset) for none. */
export function ratingValue(r: CallRating | undefined): object | undefined {
  return r && { score: r.score, reasons: [...r.reasons], comment: r.comment ?? null, rated_at_ms: r.ratedAtMs };
}

/** A rating from a call_rating value; none for null (rows written before migration 5 too). */
function ratingOf(v: unknown): CallRating | undefined {
  if (v === null || v === undefined) return undefined;
  const r = v as Row;
  const comment = str(r.comment);
  return {
    score: num(r.score) ?? 0,
    reasons: ((r.reasons as unknown[] | null) ?? []).map((x) => String(x) as RatingReason),
    ...(comment ? { comment } : {}),
    ratedAtMs: num(r.rated_at_ms) ?? 0,
  };
}

/** A number from an int/bigint/double column, or undefined for null. */
export function num(v: unknown): number | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === "number") return v;
  if (typeof v === "object" && "toNumber" in v && typeof v.toNumber === "function") return Number(v.toNumber());
  return Number(v);
}

function str<T extends string = string>(v: unknown): T | undefined {
  return v === null || v === undefined ? undefined : (String(v) as T);
}

/** A call record from a calls_by_id / calls_by_user row. */
export function toRecord(r: Row): CallRecord {
  const q = r.quality as Row | null | undefined;
  const record: CallRecord = {
    callId: String(r.call_id),
    caller: { userId: String(r.caller_user_id), deviceId: String(r.caller_device_id) },
    calleeUserId: String(r.callee_user_id),
    video: r.video === true,
    startedAtMs: num(r.started_at_ms) ?? 0,
    ringDeadlineMs: num(r.ring_deadline_ms) ?? 0,
    answeredDeviceId: str(r.answered_device_id),
    answeredAtMs: num(r.answered_at_ms),
    endedAtMs: num(r.ended_at_ms),
    outcome: str<Outcome>(r.outcome),
    endReason: str<CallEnd["reason"]>(r.end_reason),
    path: str<PathType>(r.path),
    setupMs: num(r.setup_ms),
    quality: q
      ? {
          samples: num(q.samples) ?? 0,
          avgFractionLost: num(q.avg_fraction_lost) ?? 0,
          avgJitterMs: num(q.avg_jitter_ms) ?? 0,
          avgRttMs: num(q.avg_rtt_ms) ?? 0,
          avgBitrateBps: num(q.avg_bitrate_bps) ?? 0,
          resolutionChanges: num(q.resolution_changes) ?? 0,
          ...scoreOf(q),
          ...relayProtocolOf(q.relay_protocol),
        }
      : undefined,
    callerRating: ratingOf(r.caller_rating),
    calleeRating: ratingOf(r.callee_rating),
  };
  return record;
}

/** A relay_protocol column (null: not relayed, and on rows written before migration 7). */
function relayProtocolOf(v: unknown): { relayProtocol?: RelayProtocol } {
  const p = str<RelayProtocol>(v);
  return p ? { relayProtocol: p } : {};
}

/** The score fields of a quality_summary value; none on rows written before migration 4. */
function scoreOf(q: Row): { score?: QualityScore } {
  const verdict = str<Verdict>(q.verdict);
  if (verdict === undefined) return {};
  const poorNetworkUserId = str(q.poor_network_user_id);
  return {
    score: {
      medianMos: num(q.median_mos) ?? 0,
      worstMos: num(q.worst_mos) ?? 0,
      verdict,
      ...(poorNetworkUserId ? { poorNetworkUserId } : {}),
    },
  };
}

/** A sample from a call_samples row (one row per sample, written before sample windows). */
export function toSample(r: Row): QualitySample & { readonly userId: string } {
  const path = str<PathType>(r.path);
  return {
    atMs: num(r.at_ms) ?? 0,
    userId: String(r.user_id),
    fractionLost: num(r.fraction_lost) ?? 0,
    jitterMs: num(r.jitter_ms) ?? 0,
    rttMs: num(r.rtt_ms) ?? 0,
    availableOutgoingBitrateBps: num(r.available_outgoing_bitrate_bps) ?? 0,
    sentBitrateBps: num(r.sent_bitrate_bps) ?? 0,
    frameWidth: num(r.frame_width) ?? 0,
    frameHeight: num(r.frame_height) ?? 0,
    framesPerSecond: num(r.frames_per_second) ?? 0,
    qualityStep: num(r.quality_step) ?? 0,
    qualityLimitationReason: String(r.quality_limitation_reason ?? ""),
    ...(path ? { path } : {}),
    ...relayProtocolOf(r.relay_protocol),
  };
}
