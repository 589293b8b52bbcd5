/** Commands a device sends, after the transport decoded them. */
import type { CallEvent, DeviceRef, HangupReason, MediaState, PathType, Signal } from "./call-types.ts";
import type { QualitySample } from "./quality.ts";

/** One client command (docs/spec.md §4). */
export type Command =
  | { readonly kind: "start_call"; readonly calleeUserId: string; readonly video: boolean }
  | { readonly kind: "accept" | "decline" | "cancel" | "busy"; readonly callId: string }
  | { readonly kind: "hangup"; readonly callId: string; readonly reason: HangupReason }
  | { readonly kind: "signal"; readonly callId: string; readonly signal: Signal }
  | {
      readonly kind: "media_state";
      readonly callId: string;
      readonly state: MediaState;
      readonly path?: PathType;
      readonly setupMs?: number;
    }
  | { readonly kind: "quality_report"; readonly callId: string; readonly sample: QualitySample }
  | { readonly kind: "ping"; readonly nonce: bigint };

/** A command the call's state machine takes as an event (quality reports go to the store instead). */
export type MachineCommand = Exclude<Command, { kind: "start_call" | "ping" | "quality_report" }>;

/** The machine event of a device's command. */
export function commandEvent(from: DeviceRef, command: MachineCommand): CallEvent {
  switch (command.kind) {
    case "accept":
    case "decline":
    case "cancel":
    case "busy":
      return { type: command.kind, by: from };
    case "hangup":
      return { type: "hangup", by: from, reason: command.reason };
    case "signal":
      return { type: "relay", from, signal: command.signal };
    case "media_state":
      return {
        type: "media",
        from,
        state: command.state,
        ...(command.path ? { path: command.path } : {}),
        ...(command.setupMs ? { setupMs: command.setupMs } : {}),
      };
  }
}
