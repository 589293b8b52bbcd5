/**
 * The words a person sees when a call ends or cannot start. Every failure gets
 * a clear, specific sentence (PRODUCT.md §3 outcomes, from the user's side).
 */
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
): Notice {
  switch (outcome) {
    case CallOutcome.COMPLETED:
      return { text: `Call with ${peer} ended.`, kind: "info" };
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
      return { text: `${peer} cannot be reached right now (no device online).`, kind: "error" };
    case CallOutcome.FAILED:
      return {
        text:
          !hadMedia && (reason === EndReason.SETUP_TIMEOUT || reason === EndReason.MEDIA_FAILED)
            ? `Connection failed: could not connect media with ${peer}. Try relay-only mode or another network.`
            : `Connection to ${peer} was lost.`,
        kind: "error",
      };
    default:
      return { text: `Call with ${peer} ended.`, kind: "info" };
  }
}

/** The notice for a getUserMedia failure. */
export function mediaErrorNotice(error: unknown): Notice {
  const name =
    error instanceof Error || (typeof error === "object" && error && "name" in error)
      ? String((error as { name: unknown }).name)
      : "";
  if (name === "NotAllowedError" || name === "SecurityError") {
    return { text: "Camera or microphone access was denied. Allow it in the browser to call.", kind: "error" };
  }
  if (name === "NotFoundError" || name === "OverconstrainedError") {
    return { text: "No camera or microphone was found.", kind: "error" };
  }
  if (name === "NotReadableError") return { text: "The camera is in use by another application.", kind: "error" };
  return { text: `Could not start camera or microphone (${name || String(error)}).`, kind: "error" };
}

/** The notice for a failed command or a dropped connection to the server. */
export function serverErrorNotice(error: unknown): Notice {
  const message = error instanceof Error ? error.message : String(error);
  return { text: `Server error: ${message}`, kind: "error" };
}
