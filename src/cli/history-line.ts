/** One call-history record as the CLI prints it. */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { CallOutcome, type CallRecord } from "../../gen/calldrop/v1/call_pb.js";
import { qualityInWords } from "../../web/src/quality-words.ts";
import { ratingInWords } from "../../web/src/rating-words.ts";

const two = (n: number) => String(n).padStart(2, "0");

/** `2026-12-02 09:14` in the machine's local time zone. */
function localMinute(d: Date): string {
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** `m:ss` (or `h:mm:ss` from an hour) of a call's talk time. */
function talkTime(ms: number): string {
  const s = Math.floor(ms / 1000);
  const clock = `${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
  return s >= 3600 ? `${Math.floor(s / 3600)}:${clock}` : clock.replace(/^0/, "");
}

/**
 * The record as `me` reads it, on one line: local start time, outcome name, caller → callee, talk
 * time, for a scored call its quality in words, and `me`'s own rating once given (docs/spec.md
 * §15), e.g. `2026-12-02 09:14 · missed · bob → alice · 0:00` or
 * `2026-12-02 09:14 · completed · bob → alice · 12:34 · quality: poor: your network (MOS 2.1) · You rated 2/5`.
 */
export function historyLine(call: CallRecord, me: string): string {
  const started = call.startedAt ? localMinute(timestampDate(call.startedAt)) : "????-??-?? ??:??";
  const outcome = (CallOutcome[call.outcome] ?? `outcome ${call.outcome}`).toLowerCase();
  const quality = qualityInWords(call.quality, me);
  const line = `${started} · ${outcome} · ${call.callerUserId} → ${call.calleeUserId} · ${talkTime(Number(call.durationMs))}`;
  const rating = ratingInWords(call, me);
  return [line, quality && `quality: ${quality}`, rating].filter(Boolean).join(" · ");
}
