/** What a device session streams to its client; the transport maps it to protobuf ServerEvents. */
import type { OutboundEvent } from "../domain/call-types.ts";
import type { DomainErrorCode } from "../domain/errors.ts";

/** The body of one session event. */
export type SessionEventBody =
  | OutboundEvent
  | {
      readonly type: "session_ready";
      readonly sessionId: string;
      readonly resumeToken: string;
      readonly resumed: boolean;
      readonly resumeGraceMs: number;
      readonly userId: string;
      readonly deviceId: string;
    }
  | { readonly type: "command_result"; readonly commandId: string; readonly result: CommandResult }
  | {
      readonly type: "command_error";
      readonly commandId: string;
      readonly code: DomainErrorCode;
      readonly message: string;
    }
  | { readonly type: "pong"; readonly nonce: bigint };

/** One event with its per-session sequence number (0 for session_ready, which is never replayed). */
export interface SessionEvent {
  readonly seq: number;
  readonly sentAtMs: number;
  readonly body: SessionEventBody;
}

/** The result of a command. */
export interface CommandResult {
  /** The call the command created or acted on (empty for session-level commands). */
  readonly callId: string;
  /** StartCall met the callee's ringing call to this user (glare) and answered it. */
  readonly mergedIntoExisting: boolean;
}
