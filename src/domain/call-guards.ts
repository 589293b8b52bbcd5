/**
 * Who may do what in a call: participant checks shared by the state machine.
 * Each require* throws the DomainError the transport maps to a client code.
 */
import type { CallInfo, CallState, DeviceRef } from "./call-types.ts";
import { DomainError } from "./errors.ts";

/** A call that has been answered. */
export type Answered = Extract<CallState, { phase: "connecting" | "connected" }>;

/** A device reference. */
export function device(userId: string, deviceId: string): DeviceRef {
  return { userId, deviceId };
}

/** A map key for a device: user and device id, joined by a character neither may contain. */
export function deviceKey(d: DeviceRef): string {
  return `${d.userId}\u0000${d.deviceId}`;
}

/** Whether `d` is the device that started the call. */
export function isCallerDevice(call: CallInfo, d: DeviceRef): boolean {
  return d.userId === call.caller.userId && d.deviceId === call.caller.deviceId;
}

/** Whether `d` is the caller device or the device that answered. */
export function isAnsweredParticipant(state: Answered, d: DeviceRef): boolean {
  return (
    isCallerDevice(state.call, d) || (d.userId === state.call.calleeUserId && d.deviceId === state.answeredDeviceId)
  );
}

/** The other end of an answered call, seen from `from`. */
export function otherParticipant(state: Answered, from: DeviceRef): DeviceRef {
  return isCallerDevice(state.call, from) ? device(state.call.calleeUserId, state.answeredDeviceId) : state.call.caller;
}

/**
 * Glare: `other`, the live call a new call from `from` to `calleeUserId` ran into, is the
 * callee's call ringing `from`'s user; the new call is dropped and that one answered instead.
 */
export function isGlare(other: CallState, from: DeviceRef, calleeUserId: string): boolean {
  return (
    other.phase === "ringing" && other.call.calleeUserId === from.userId && other.call.caller.userId === calleeUserId
  );
}

/** Throws not_participant unless `d` belongs to the caller or the callee. */
export function requireParticipantUser(call: CallInfo, d: DeviceRef): void {
  if (d.userId !== call.caller.userId && d.userId !== call.calleeUserId) {
    throw new DomainError("not_participant", "you are not a participant of this call");
  }
}

/** Throws unless `by` is a device of the callee. */
export function requireCallee(call: CallInfo, by: DeviceRef, action: string): void {
  requireParticipantUser(call, by);
  if (by.userId !== call.calleeUserId) {
    throw new DomainError("illegal_transition", `only the callee can ${action} a call`);
  }
}

/** Throws unless `by` is the calling device. */
export function requireCaller(call: CallInfo, by: DeviceRef, action: string): void {
  requireParticipantUser(call, by);
  if (!isCallerDevice(call, by)) {
    throw new DomainError("illegal_transition", `only the calling device can ${action} a call`);
  }
}

/** Throws unless `by` is the caller device or the answering device. */
export function requireAnsweredParticipant(state: Answered, by: DeviceRef): void {
  requireParticipantUser(state.call, by);
  if (!isAnsweredParticipant(state, by)) {
    throw new DomainError("not_participant", "this device is not in the call (it was answered on another device)");
  }
}
