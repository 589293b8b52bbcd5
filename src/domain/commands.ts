/** Commands a device sends, after the transport decoded them. */
import type { HangupReason, MediaState, PathType, Signal } from "./call-types.ts";
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
