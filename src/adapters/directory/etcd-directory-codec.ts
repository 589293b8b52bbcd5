/**
 * The compact value of a call in the etcd call directory (docs/spec.md §10; docs/cluster.md "Call directory
 * size"): the owner and the call's state at its last phase change in a tight binary form
 * instead of JSON, ~3× smaller. Strings are a varint tag (2 × byte length, or 1 for a
 * canonical lowercase UUID, stored as its 16 bytes) and their bytes; numbers are zigzag
 * varints, times after the call's start as offsets from it. A state this form cannot hold
 * exactly (an unknown enum value, a number that is not a safe integer) is stored as JSON,
 * recognised by its first byte `{`; so is everything the layout before it wrote.
 */
import type { CallEnd, CallState, EndReason, Outcome, PathType } from "../../domain/call-types.ts";

/** The owner and state of one directory entry (the call id is in the key). */
export interface StoredCall {
  readonly ownerNodeId: string;
  readonly state: CallState;
}

/** First byte of a compact value: version 1, then the phase. */
const VERSION = 0x10;
const PHASES = ["ringing", "connecting", "connected", "ended"] as const;
const OUTCOMES: readonly Outcome[] = ["completed", "missed", "declined", "cancelled", "busy", "unreachable", "failed"];
const REASONS: readonly EndReason[] = [
  "hangup",
  "ring_timeout",
  "declined",
  "cancelled",
  "callee_busy",
  "no_devices",
  "setup_timeout",
  "media_failed",
  "participant_lost",
  "network_lost",
  "app_closed",
];
const PATHS: readonly PathType[] = ["p2p", "relay"];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True for a canonical lowercase UUID (what the Ids port makes call ids of). */
export const isUuid = (s: string) => UUID.test(s);

/** The 16 bytes of a canonical UUID. */
export const uuidBytes = (uuid: string) => Buffer.from(uuid.replaceAll("-", ""), "hex");

/** The canonical form of 16 UUID bytes. */
export function uuidString(bytes: Uint8Array): string {
  const h = Buffer.from(bytes).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Thrown while encoding when the compact form cannot hold the state exactly. */
class NotCompact extends Error {}

function writer() {
  const bytes: number[] = [];
  const uint = (n: number) => {
    if (!Number.isSafeInteger(n) || n < 0) throw new NotCompact();
    let v = n;
    while (v >= 0x80) {
      bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    bytes.push(v);
  };
  const int = (n: number) => {
    if (!Number.isSafeInteger(n) || Math.abs(n) > Number.MAX_SAFE_INTEGER / 2) throw new NotCompact();
    uint(n >= 0 ? n * 2 : -n * 2 - 1);
  };
  const str = (s: string) => {
    if (isUuid(s)) {
      uint(1);
      bytes.push(...uuidBytes(s));
      return;
    }
    const b = Buffer.from(s, "utf8");
    if (b.toString("utf8") !== s) throw new NotCompact(); // a lone surrogate does not survive UTF-8
    uint(b.length * 2);
    bytes.push(...b);
  };
  const pick = <T>(list: readonly T[], v: T) => {
    const i = list.indexOf(v);
    if (i < 0) throw new NotCompact();
    uint(i);
  };
  return { uint, int, str, pick, byte: (b: number) => bytes.push(b), done: () => Buffer.from(bytes) };
}

function reader(buf: Uint8Array) {
  let at = 0;
  const byte = () => {
    if (at >= buf.length) throw new Error("call directory: truncated value");
    return buf[at++] as number;
  };
  const uint = () => {
    let n = 0;
    for (let scale = 1; ; scale *= 0x80) {
      const b = byte();
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
    }
  };
  const int = () => {
    const z = uint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  };
  const str = () => {
    const tag = uint();
    const len = tag === 1 ? 16 : tag / 2;
    const slice = buf.subarray(at, at + len);
    if (slice.length !== len) throw new Error("call directory: truncated value");
    at += len;
    return tag === 1 ? uuidString(slice) : Buffer.from(slice).toString("utf8");
  };
  const pick = <T>(list: readonly T[]) => {
    const v = list[uint()];
    if (v === undefined) throw new Error("call directory: unknown enum value");
    return v;
  };
  return { byte, uint, int, str, pick };
}

/** Optional fields of an ended call, one bit each. */
const END_ANSWERED = 1;
const END_ANSWERED_AT = 2;
const END_PATH = 4;
const END_SETUP = 8;

function encodeCompact({ ownerNodeId, state }: StoredCall): Buffer {
  const w = writer();
  const { call } = state;
  const t0 = call.startedAtMs;
  // A waiting call (docs/spec.md §14) is stored as JSON: rare, and nodes from before read it whole.
  if (call.waiting) throw new NotCompact();
  w.byte(VERSION | PHASES.indexOf(state.phase));
  w.str(ownerNodeId);
  w.str(call.caller.userId);
  w.str(call.caller.deviceId);
  w.str(call.calleeUserId);
  w.uint(call.video ? 1 : 0);
  w.int(t0);
  w.int(call.ringDeadlineMs - t0);
  switch (state.phase) {
    case "ringing":
      w.uint(state.pushed ? 1 : 0);
      w.uint(state.ringing.length);
      for (const d of state.ringing) w.str(d);
      break;
    case "connecting":
      w.str(state.answeredDeviceId);
      w.int(state.answeredAtMs - t0);
      w.int(state.setupDeadlineMs - t0);
      w.uint(state.candidates);
      break;
    case "connected":
      w.str(state.answeredDeviceId);
      w.int(state.answeredAtMs - t0);
      w.int(state.connectedAtMs - t0);
      w.pick(PATHS, state.path);
      w.int(state.setupMs);
      w.uint(state.candidates);
      break;
    case "ended":
      encodeEnd(w, state.end, t0);
      break;
  }
  return w.done();
}

function encodeEnd(w: ReturnType<typeof writer>, end: CallEnd, t0: number): void {
  const extra = Object.keys(end).filter((k) => !["outcome", "reason", "endedAtMs"].includes(k));
  const known = ["answeredDeviceId", "answeredAtMs", "path", "setupMs"];
  // An unknown or explicitly undefined field would not come back the same.
  if (extra.some((k) => !known.includes(k) || end[k as keyof CallEnd] === undefined)) throw new NotCompact();
  w.pick(OUTCOMES, end.outcome);
  w.pick(REASONS, end.reason);
  w.int(end.endedAtMs - t0);
  const bits =
    (end.answeredDeviceId !== undefined ? END_ANSWERED : 0) |
    (end.answeredAtMs !== undefined ? END_ANSWERED_AT : 0) |
    (end.path !== undefined ? END_PATH : 0) |
    (end.setupMs !== undefined ? END_SETUP : 0);
  w.uint(bits);
  if (end.answeredDeviceId !== undefined) w.str(end.answeredDeviceId);
  if (end.answeredAtMs !== undefined) w.int(end.answeredAtMs - t0);
  if (end.path !== undefined) w.pick(PATHS, end.path);
  if (end.setupMs !== undefined) w.int(end.setupMs);
}

function decodeCompact(buf: Uint8Array, callId: string): StoredCall {
  const r = reader(buf);
  const head = r.byte();
  const phase = PHASES[head & 0x0f];
  if ((head & 0xf0) !== VERSION || phase === undefined) throw new Error("call directory: unknown value format");
  const ownerNodeId = r.str();
  const caller = { userId: r.str(), deviceId: r.str() };
  const calleeUserId = r.str();
  const video = r.uint() === 1;
  const t0 = r.int();
  const call = { callId, caller, calleeUserId, video, startedAtMs: t0, ringDeadlineMs: t0 + r.int() };
  switch (phase) {
    case "ringing": {
      const pushed = r.uint() === 1;
      const ringing = Array.from({ length: r.uint() }, () => r.str());
      return { ownerNodeId, state: { phase, call, ringing, pushed } };
    }
    case "connecting": {
      const answeredDeviceId = r.str();
      const answeredAtMs = t0 + r.int();
      const setupDeadlineMs = t0 + r.int();
      return {
        ownerNodeId,
        state: { phase, call, answeredDeviceId, answeredAtMs, setupDeadlineMs, candidates: r.uint() },
      };
    }
    case "connected": {
      const answeredDeviceId = r.str();
      const answeredAtMs = t0 + r.int();
      const connectedAtMs = t0 + r.int();
      const path = r.pick(PATHS);
      const setupMs = r.int();
      return {
        ownerNodeId,
        state: { phase, call, answeredDeviceId, answeredAtMs, connectedAtMs, path, setupMs, candidates: r.uint() },
      };
    }
    case "ended": {
      const outcome = r.pick(OUTCOMES);
      const reason = r.pick(REASONS);
      const endedAtMs = t0 + r.int();
      const bits = r.uint();
      const end: CallEnd = {
        outcome,
        reason,
        endedAtMs,
        ...(bits & END_ANSWERED ? { answeredDeviceId: r.str() } : {}),
        ...(bits & END_ANSWERED_AT ? { answeredAtMs: t0 + r.int() } : {}),
        ...(bits & END_PATH ? { path: r.pick(PATHS) } : {}),
        ...(bits & END_SETUP ? { setupMs: r.int() } : {}),
      };
      return { ownerNodeId, state: { phase, call, end } };
    }
  }
}

/** `{` opens a JSON value: the form of the layout before, and of states the compact form cannot hold. */
const JSON_OPEN = 0x7b;

/** The stored form of a call: compact when it holds the state exactly, else JSON. */
export function encodeStoredCall(stored: StoredCall): Buffer {
  try {
    return encodeCompact(stored);
  } catch (err) {
    if (!(err instanceof NotCompact)) throw err;
    return encodeJsonStoredCall(stored);
  }
}

/** The JSON form (the layout before this one wrote only this). */
export const encodeJsonStoredCall = ({ ownerNodeId, state }: StoredCall) =>
  Buffer.from(JSON.stringify({ ownerNodeId, state }));

/** Reads either form; `callId` comes from the key (the compact form does not repeat it). */
export function decodeStoredCall(value: Uint8Array, callId: string): StoredCall {
  if (value[0] === JSON_OPEN) {
    const { ownerNodeId, state } = JSON.parse(Buffer.from(value).toString("utf8")) as StoredCall;
    return { ownerNodeId, state };
  }
  return decodeCompact(value, callId);
}
