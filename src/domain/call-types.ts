/**
 * The call lifecycle's vocabulary: states, events, outbound events and effects.
 * Plain data only; nothing here does I/O or knows about protobuf.
 */

/** How a call ended; set exactly once per call. */
export type Outcome = "completed" | "missed" | "declined" | "cancelled" | "busy" | "unreachable" | "failed";
/** Every outcome, for config and label sets. */
export const outcomeValues = [
  "completed",
  "missed",
  "declined",
  "cancelled",
  "busy",
  "unreachable",
  "failed",
] as const satisfies readonly Outcome[];

/** The finer reason behind an outcome. */
export type EndReason =
  | "hangup"
  | "ring_timeout"
  | "declined"
  | "cancelled"
  | "callee_busy"
  | "no_devices"
  | "setup_timeout"
  | "media_failed"
  | "participant_lost"
  | "network_lost"
  | "app_closed";

/** Reasons a participant may give when hanging up. */
export type HangupReason = Extract<EndReason, "hangup" | "media_failed" | "network_lost" | "app_closed">;

/** The selected ICE candidate-pair type of the media path. */
export type PathType = "p2p" | "relay";

/** How a participant reaches its TURN server (docs/spec.md §5): TURN over UDP, TCP or TLS. */
export type RelayProtocol = "udp" | "tcp" | "tls";

/** One device of one user. */
export interface DeviceRef {
  readonly userId: string;
  readonly deviceId: string;
}

/** What never changes about a call once it starts ringing. */
export interface CallInfo {
  readonly callId: string;
  readonly caller: DeviceRef;
  readonly calleeUserId: string;
  readonly video: boolean;
  readonly startedAtMs: number;
  readonly ringDeadlineMs: number;
  /**
   * Set when the call rang as a waiting call: its callee was in another answered call and
   * takes call waiting (docs/spec.md §14 "Call waiting"). Absent otherwise.
   */
  readonly waiting?: true;
}

/** WebRTC signaling relayed verbatim between the two participants. */
export type Signal = SignalBody & {
  /**
   * The id of the command that first sent it. A device sends its signals again after
   * a `resync` under the same id, so the receiving device applies each one once.
   */
  readonly id: string;
};

/** What a signal carries. */
export type SignalBody =
  | {
      readonly kind: "description";
      readonly sdpType: "offer" | "answer" | "pranswer" | "rollback";
      readonly sdp: string;
    }
  | {
      readonly kind: "ice_candidate";
      readonly candidate: string;
      readonly sdpMid: string;
      readonly sdpMLineIndex: number;
      readonly usernameFragment: string;
      readonly endOfCandidates: boolean;
    }
  | { readonly kind: "ice_restart"; readonly sdp: string }
  | {
      /** The sender's microphone and camera as its user set them (docs/spec.md §14): the whole state. */
      readonly kind: "media_controls";
      readonly audioMuted: boolean;
      readonly cameraOff: boolean;
      readonly screenSharing: boolean;
    };

/** The state of one call. `ended` is terminal. */
export type CallState =
  | {
      readonly phase: "ringing";
      readonly call: CallInfo;
      /** Callee devices currently ringing in-app. */
      readonly ringing: readonly string[];
      /** Whether an incoming-call push went out (so a stop-ringing push must follow). */
      readonly pushed: boolean;
    }
  | {
      readonly phase: "connecting";
      readonly call: CallInfo;
      readonly answeredDeviceId: string;
      readonly answeredAtMs: number;
      readonly setupDeadlineMs: number;
      readonly candidates: number;
    }
  | {
      readonly phase: "connected";
      readonly call: CallInfo;
      readonly answeredDeviceId: string;
      readonly answeredAtMs: number;
      readonly connectedAtMs: number;
      readonly path: PathType;
      readonly setupMs: number;
      readonly candidates: number;
    }
  | {
      readonly phase: "ended";
      readonly call: CallInfo;
      readonly end: CallEnd;
    };

/** How and when a call ended, as written to its record. */
export interface CallEnd {
  readonly outcome: Outcome;
  readonly reason: EndReason;
  readonly endedAtMs: number;
  readonly answeredDeviceId?: string;
  readonly answeredAtMs?: number;
  readonly path?: PathType;
  readonly setupMs?: number;
}

/** Media connection states a participant reports. */
export type MediaState = "connected" | "disconnected" | "failed";

/** Everything that can happen to an existing call. */
export type CallEvent =
  | { readonly type: "ring_device"; readonly deviceId: string }
  | { readonly type: "accept"; readonly by: DeviceRef }
  | { readonly type: "decline"; readonly by: DeviceRef }
  | { readonly type: "busy"; readonly by: DeviceRef }
  | { readonly type: "cancel"; readonly by: DeviceRef }
  | { readonly type: "hangup"; readonly by: DeviceRef; readonly reason: HangupReason }
  | { readonly type: "relay"; readonly from: DeviceRef; readonly signal: Signal }
  | {
      readonly type: "media";
      readonly from: DeviceRef;
      readonly state: MediaState;
      readonly path?: PathType;
      readonly setupMs?: number;
    }
  | { readonly type: "ring_timeout" }
  | { readonly type: "setup_timeout" }
  | { readonly type: "device_lost"; readonly device: DeviceRef };

/** Events delivered to devices; the transport turns them into ServerEvents. */
export type OutboundEvent =
  | { readonly type: "ringing"; readonly callId: string; readonly calleeUserId: string; readonly devices: number }
  | {
      readonly type: "incoming_call";
      readonly callId: string;
      readonly callerUserId: string;
      readonly video: boolean;
      readonly ringDeadlineMs: number;
      /** The callee is in another call: ring quietly, offer "End & accept" (docs/spec.md §14 "Call waiting"). */
      readonly waiting?: true;
    }
  | { readonly type: "call_accepted"; readonly callId: string; readonly answeredDeviceId: string }
  | { readonly type: "answered_elsewhere"; readonly callId: string; readonly answeredDeviceId: string }
  | { readonly type: "call_ended"; readonly callId: string; readonly outcome: Outcome; readonly reason: EndReason }
  | { readonly type: "signal"; readonly callId: string; readonly signal: Signal }
  | {
      readonly type: "missed_call";
      readonly callId: string;
      readonly callerUserId: string;
      readonly startedAtMs: number;
    }
  | { readonly type: "quality_hint"; readonly callId: string; readonly maxBitrateBps: number }
  /** Signaling of the call may have lost messages: send your signals of it again (see call-rejoin.ts). */
  | { readonly type: "resync"; readonly callId: string };

/** Push notifications the call decides on; the notifier port delivers them. */
export type Notification =
  | {
      readonly kind: "incoming_call";
      readonly userId: string;
      readonly callId: string;
      readonly callerUserId: string;
      readonly video: boolean;
      readonly ringDeadlineMs: number;
    }
  | {
      readonly kind: "missed_call";
      readonly userId: string;
      readonly callId: string;
      readonly callerUserId: string;
      readonly startedAtMs: number;
    }
  | {
      readonly kind: "stop_ringing";
      readonly userId: string;
      readonly callId: string;
      readonly outcome: Outcome;
    };

/** The timers a call owns. */
export type TimerName = "ring" | "setup";

/** What the application layer must do after a transition, in order. */
export type Effect =
  | { readonly kind: "send"; readonly to: DeviceRef; readonly event: OutboundEvent }
  | { readonly kind: "send_user"; readonly userId: string; readonly event: OutboundEvent }
  | { readonly kind: "record_start"; readonly call: CallInfo }
  | {
      readonly kind: "record_answer";
      readonly callId: string;
      readonly deviceId: string;
      readonly answeredAtMs: number;
    }
  | { readonly kind: "record_end"; readonly call: CallInfo; readonly end: CallEnd }
  | { readonly kind: "notify"; readonly notification: Notification }
  | { readonly kind: "set_timer"; readonly timer: TimerName; readonly atMs: number }
  | { readonly kind: "clear_timer"; readonly timer: TimerName };

/** A transition's result: the next state and the effects to run. */
export interface Transition {
  readonly state: CallState;
  readonly effects: readonly Effect[];
}
