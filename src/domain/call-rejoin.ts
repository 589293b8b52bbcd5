/**
 * What a device re-learns about its call when it comes back with a fresh session
 * (its old session was lost with a node), and who is asked to send its signals
 * again: pure functions over the call state.
 */
import type { CallEvent, CallState, DeviceRef, OutboundEvent } from "./call-types.ts";

/** True when `device` is the calling device or the device that answered. */
export function isParticipantDevice(state: CallState, device: DeviceRef): boolean {
  const { call } = state;
  if (device.userId === call.caller.userId && device.deviceId === call.caller.deviceId) return true;
  if (state.phase !== "connecting" && state.phase !== "connected") return false;
  return device.userId === call.calleeUserId && device.deviceId === state.answeredDeviceId;
}

/** The participant devices of the call: the calling device and, once answered, the device that answered. */
export function participantDevices(state: CallState): DeviceRef[] {
  const { call } = state;
  if (state.phase !== "connecting" && state.phase !== "connected") return [call.caller];
  return [call.caller, { userId: call.calleeUserId, deviceId: state.answeredDeviceId }];
}

/**
 * The events that put a fresh session of `device` where the call is: the caller
 * sees `ringing` again, a ringing callee device `incoming_call`, both participants
 * of an answered call `call_accepted`. Nothing for other devices or an ended call.
 */
export function rejoinEvents(state: CallState, device: DeviceRef): OutboundEvent[] {
  const { call } = state;
  const isCaller = device.userId === call.caller.userId && device.deviceId === call.caller.deviceId;
  switch (state.phase) {
    case "ringing":
      if (isCaller) {
        return [
          { type: "ringing", callId: call.callId, calleeUserId: call.calleeUserId, devices: state.ringing.length },
        ];
      }
      if (device.userId !== call.calleeUserId || !state.ringing.includes(device.deviceId)) return [];
      return [
        {
          type: "incoming_call",
          callId: call.callId,
          callerUserId: call.caller.userId,
          video: call.video,
          ringDeadlineMs: call.ringDeadlineMs,
        },
      ];
    case "connecting":
    case "connected":
      if (!isParticipantDevice(state, device)) return [];
      return [{ type: "call_accepted", callId: call.callId, answeredDeviceId: state.answeredDeviceId }];
    case "ended":
      return [];
  }
}

/**
 * The `resync` that goes to both participants of an answered call when one of them
 * comes back with a fresh session, or when another node takes the call over: the
 * events a failed node had accepted but not delivered are gone with it, so each
 * participant sends its signals again and the other applies those it lacks. Nothing
 * before the call is answered (no signals flow yet) or after it ended.
 */
export function resyncSends(state: CallState): { readonly to: DeviceRef; readonly event: OutboundEvent }[] {
  if (state.phase !== "connecting" && state.phase !== "connected") return [];
  const event: OutboundEvent = { type: "resync", callId: state.call.callId };
  const callee = { userId: state.call.calleeUserId, deviceId: state.answeredDeviceId };
  return [
    { to: state.call.caller, event },
    { to: callee, event },
  ];
}

/** What the node running a call does when a device of it is back ("online": a fresh session; "resumed": the same one). */
export interface DeviceBack {
  /** First, an event for the machine: a callee device that came while the call rings, and was not rung, is rung. */
  readonly event?: CallEvent;
  /** Then to the device, before what was queued for it while it was absent: where the call is. */
  readonly rejoin: readonly OutboundEvent[];
  /** Last, to both participants when one has a fresh session: send your signals again. */
  readonly resync: readonly { readonly to: DeviceRef; readonly event: OutboundEvent }[];
}

/**
 * The decision for a device of the call that is back: a resumed session lost nothing,
 * so it only catches up on its queue; a fresh one re-learns the call (`rejoinEvents`)
 * and, as a participant, has both ends resend (`resyncSends`).
 */
export function deviceBack(state: CallState, device: DeviceRef, kind: "online" | "resumed"): DeviceBack {
  if (
    state.phase === "ringing" &&
    device.userId === state.call.calleeUserId &&
    !state.ringing.includes(device.deviceId)
  ) {
    return { event: { type: "ring_device", deviceId: device.deviceId }, rejoin: [], resync: [] };
  }
  const fresh = kind === "online";
  return {
    rejoin: fresh ? rejoinEvents(state, device) : [],
    resync: fresh && isParticipantDevice(state, device) ? resyncSends(state) : [],
  };
}
