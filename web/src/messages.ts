/**
 * The words a person sees when a call ends or cannot start. Every failure gets
 * a clear, specific sentence (docs/spec.md §3 outcomes, from the user's side).
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { CallOutcome, EndReason } from "../../gen/calldrop/v1/call_pb.js";

/** Which side of the call this device was on. */
export type Role = "caller" | "callee";

/** Severity drives the banner colour. */
export interface Notice {
  readonly text: string;
  readonly kind: "info" | "error";
}

/**
 * The notice for a `call_ended` event; `hadMedia`: the media had connected in this call
 * (then a media failure is a lost connection, not a setup problem relay-only could solve).
 */
export function callEndedNotice(
  outcome: CallOutcome,
  reason: EndReason,
  role: Role,
  peer: string,
  hadMedia = false,
  durationMs?: number,
): Notice {
  switch (outcome) {
    case CallOutcome.COMPLETED:
      return endedNotice(peer, durationMs);
    case CallOutcome.MISSED:
      return role === "caller"
        ? { text: `No answer: ${peer} did not pick up.`, kind: "error" }
        : { text: `Missed call from ${peer}.`, kind: "error" };
    case CallOutcome.DECLINED:
      return role === "caller"
        ? { text: `${peer} declined the call.`, kind: "error" }
        : { text: `You declined the call from ${peer}.`, kind: "info" };
    case CallOutcome.CANCELLED:
      return role === "caller"
        ? { text: "Call cancelled.", kind: "info" }
        : { text: `Missed call from ${peer} (they hung up).`, kind: "error" };
    case CallOutcome.BUSY:
      return { text: `${peer} is busy in another call.`, kind: "error" };
    case CallOutcome.UNREACHABLE:
      return { text: `${peer} cannot be reached right now — none of their devices is online.`, kind: "error" };
    case CallOutcome.FAILED:
      return {
        text:
          !hadMedia && (reason === EndReason.SETUP_TIMEOUT || reason === EndReason.MEDIA_FAILED)
            ? `Connection failed: could not connect media with ${peer}. Try relay-only mode or another network.`
            : `Connection to ${peer} was lost.`,
        kind: "error",
      };
    default:
      return endedNotice(peer, durationMs);
  }
}

/** A call that ended normally, with how long it lasted when it had connected: "Call with bob ended (3:07)." */
export function endedNotice(peer: string, durationMs?: number): Notice {
  return { text: `Call with ${peer} ended${durationMs === undefined ? "" : ` (${clock(durationMs)})`}.`, kind: "info" };
}

/** A duration as a clock: "0:07", "12:34", "1:02:03". */
export function clock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const [h, m, sec] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
  const mm = h > 0 ? String(m).padStart(2, "0") : String(m);
  return `${h > 0 ? `${h}:` : ""}${mm}:${String(sec).padStart(2, "0")}`;
}

/** The notice for a getUserMedia failure. */
export function mediaErrorNotice(error: unknown): Notice {
  const name =
    error instanceof Error || (typeof error === "object" && error && "name" in error)
      ? String((error as { name: unknown }).name)
      : "";
  if (name === "NotAllowedError" || name === "SecurityError") {
    return {
      text: "Camera or microphone access was denied — allow it in the address bar, then call again.",
      kind: "error",
    };
  }
  if (name === "NotFoundError" || name === "OverconstrainedError") {
    return { text: "No camera or microphone was found — plug one in, then call again.", kind: "error" };
  }
  if (name === "NotReadableError") {
    return { text: "Your camera is in use by another app — close it, then call again.", kind: "error" };
  }
  return { text: "Your camera or microphone could not start — try again.", kind: "error" };
}

/** The connection to the server is down. */
export const OFFLINE_NOTICE: Notice = { text: "No connection — check your network.", kind: "error" };

/**
 * The notice for a failed command or request: a sentence per kind of failure; the server's own
 * message (written for people, docs/style.md 9) when it refused something specific.
 */
export function serverErrorNotice(error: unknown): Notice {
  // fetch() rejects with a TypeError when the network or the server is unreachable (Connect keeps it as the cause).
  if (error instanceof TypeError) return OFFLINE_NOTICE;
  if (error instanceof Error && !(error instanceof ConnectError))
    return { text: sentence(error.message), kind: "error" };
  const err = ConnectError.from(error);
  if (err.cause instanceof TypeError) return OFFLINE_NOTICE;
  switch (err.code) {
    case Code.Unavailable:
    case Code.DeadlineExceeded:
    case Code.Canceled:
      return OFFLINE_NOTICE;
    case Code.Unauthenticated:
    case Code.PermissionDenied:
      return { text: "Your sign-in expired — sign in again.", kind: "error" };
    case Code.ResourceExhausted:
      return { text: "Too many attempts — wait a moment, then try again.", kind: "error" };
    case Code.Internal:
    case Code.Unknown:
    case Code.DataLoss:
    case Code.Unimplemented:
      return { text: "Something went wrong on our side — try again in a moment.", kind: "error" };
    default:
      return { text: sentence(err.rawMessage), kind: "error" };
  }
}

/** "user id is required" → "User id is required." */
function sentence(text: string): string {
  const t = text.trim() || "That did not work";
  return `${t[0]?.toUpperCase()}${t.slice(1)}${/[.!?]$/.test(t) ? "" : "."}`;
}
