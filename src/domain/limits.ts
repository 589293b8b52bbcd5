/** Input limits and validation of identifiers and signaling payloads (docs/spec.md §4). */
import type { Command } from "./commands.ts";
import { DomainError } from "./errors.ts";

/** Largest SDP accepted, in bytes (UTF-8). */
export const maxSdpBytes = 64 * 1024;
/** Largest ICE candidate line accepted, in bytes. */
export const maxCandidateBytes = 2 * 1024;

const userIdPattern = /^[A-Za-z0-9._@+-]{1,128}$/;
const deviceIdPattern = /^[A-Za-z0-9._:-]{1,64}$/;
const commandIdPattern = /^[\x21-\x7e]{1,128}$/;
const callIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Throws invalid_argument unless `id` is a valid user id. */
export function checkUserId(id: string, what = "user id"): void {
  if (!userIdPattern.test(id)) throw new DomainError("invalid_argument", `${what} must be 1–128 of [A-Za-z0-9._@+-]`);
}

/** Throws invalid_argument unless `id` is a valid device id. */
export function checkDeviceId(id: string): void {
  if (!deviceIdPattern.test(id)) throw new DomainError("invalid_argument", "device_id must be 1–64 of [A-Za-z0-9._:-]");
}

/** Throws invalid_argument unless `id` is a valid command id (`what` names the field). */
export function checkCommandId(id: string, what = "command_id"): void {
  if (!commandIdPattern.test(id)) {
    throw new DomainError("invalid_argument", `${what} must be 1–128 printable ASCII characters`);
  }
}

/** Throws invalid_argument unless `id` looks like a call id this service issues. */
export function checkCallId(id: string): void {
  if (!callIdPattern.test(id)) throw new DomainError("invalid_argument", "call_id is malformed");
}

/** Validates a decoded command's fields; throws invalid_argument on the first problem. */
export function checkCommand(command: Command): void {
  switch (command.kind) {
    case "start_call":
      checkUserId(command.calleeUserId, "callee_user_id");
      return;
    case "ping":
      return;
    case "signal":
      checkCallId(command.callId);
      checkSignal(command.signal);
      return;
    case "quality_report": {
      checkCallId(command.callId);
      const s = command.sample;
      const finite = [s.fractionLost, s.jitterMs, s.rttMs, s.framesPerSecond].every(Number.isFinite);
      if (!finite || s.fractionLost < 0 || s.fractionLost > 1 || s.jitterMs < 0 || s.rttMs < 0) {
        throw new DomainError("invalid_argument", "quality sample has out-of-range values");
      }
      return;
    }
    default:
      checkCallId(command.callId);
  }
}

function checkSignal(signal: Extract<Command, { kind: "signal" }>["signal"]): void {
  checkCommandId(signal.id, "resend_of");
  switch (signal.kind) {
    case "description":
    case "ice_restart":
      if (signal.sdp.length === 0) throw new DomainError("invalid_argument", "sdp is empty");
      if (Buffer.byteLength(signal.sdp) > maxSdpBytes) {
        throw new DomainError("invalid_argument", `sdp is larger than ${maxSdpBytes / 1024} KiB`);
      }
      return;
    case "ice_candidate":
      if (!signal.endOfCandidates && signal.candidate.length === 0) {
        throw new DomainError("invalid_argument", "candidate is empty (set end_of_candidates instead)");
      }
      if (Buffer.byteLength(signal.candidate) > maxCandidateBytes) {
        throw new DomainError("invalid_argument", `candidate is larger than ${maxCandidateBytes} bytes`);
      }
  }
}
