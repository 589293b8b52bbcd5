import type { DeviceRef } from "../../domain/call-types.ts";
import type { Command } from "../../domain/commands.ts";
import type { DomainErrorCode } from "../../domain/errors.ts";
import type { CommandResult, SessionEvent, SessionEventBody } from "../session-events.ts";

/** A client command about an existing call (everything but start_call and ping). */
export type CallCommand = Exclude<Command, { kind: "start_call" | "ping" }>;

/** What happened to a participant's device, as told to the node running the call. */
export type DeviceNoticeKind = "online" | "resumed" | "lost";

/** A device session moving between nodes (resume on another node). */
export interface SessionSnapshot {
  readonly sessionId: string;
  readonly resumeToken: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly nextSeq: number;
  /** Buffered events with their seq, oldest first. */
  readonly events: readonly SessionEvent[];
}

/** The failure of a request to another node. */
export interface PeerFailure {
  readonly code: DomainErrorCode;
  readonly message: string;
}

/** One message between signaling nodes (docs/spec.md §10). */
export type PeerMessage =
  /** An event for a device (or, without deviceId, every device of the user) with a session on the receiver. */
  | {
      readonly kind: "deliver";
      readonly userId: string;
      readonly deviceId?: string;
      readonly body: SessionEventBody;
      /** The node that produced it (for a call event: the node running the call). */
      readonly origin: string;
    }
  /** A device's command for a call the receiver runs; answered by a `reply`. */
  | {
      readonly kind: "command";
      readonly requestId: string;
      readonly from: DeviceRef;
      readonly commandId: string;
      readonly command: CallCommand;
    }
  /** News about a participant's device for a call the receiver runs; answered by a `reply`. */
  | {
      readonly kind: "notice";
      readonly requestId: string;
      readonly callId: string;
      readonly device: DeviceRef;
      readonly sessionId: string;
      readonly notice: DeviceNoticeKind;
    }
  | {
      readonly kind: "reply";
      readonly requestId: string;
      readonly outcome: { readonly ok: true; readonly result: CommandResult } | ({ readonly ok: false } & PeerFailure);
    }
  /** Asks the receiver to hand over a session a client resumed on the sender. */
  | {
      readonly kind: "handoff";
      readonly requestId: string;
      readonly userId: string;
      readonly deviceId: string;
      readonly resumeToken: string;
      readonly lastSeq: number;
    }
  | {
      readonly kind: "handoff_reply";
      readonly requestId: string;
      readonly outcome:
        | { readonly ok: true; readonly session: SessionSnapshot }
        | ({ readonly ok: false } & PeerFailure);
    }
  /** The device opened a fresh session on the sender: the receiver drops its older one. */
  | { readonly kind: "replaced"; readonly userId: string; readonly deviceId: string; readonly sessionId: string };

/**
 * Messages to other signaling nodes: one ordered, acknowledged stream per peer
 * (docs/style.md 10). Messages to one node arrive in the order sent, at least once
 * while both nodes live.
 */
export interface Peers {
  /**
   * Queues a message for `nodeId`; throws PeerOverloadedError when that node's queue is
   * full, DomainError "unavailable" when the node is unknown.
   */
  send(nodeId: string, message: PeerMessage): void;
  /** Sets the handler of inbound messages (called in arrival order, must not block). */
  onMessage(handler: (fromNodeId: string, message: PeerMessage) => void): void;
  /**
   * Calls `listener` when a connection to a node failed before it answered at all, or when a
   * node's stream dropped and its port then refused a connection: it may be dead before presence
   * says so (its lease has not expired yet). Messages stay queued for it.
   */
  onUnreachable(listener: (nodeId: string) => void): void;
  /**
   * True when `nodeId`'s internal port refuses a connection now: its process is gone (a host
   * that does not answer at all is not taken for dead here; its lease decides).
   */
  refuses(nodeId: string): Promise<boolean>;
  /** Messages to `nodeId` not yet acknowledged (0 when there is no link). */
  backlog(nodeId: string): number;
  /** Forgets a node that left; returns the messages it never acknowledged, oldest first. */
  forget(nodeId: string): PeerMessage[];
  /** Stops sending and receiving. */
  close(): Promise<void>;
}

/** The queue to a node is full: the message was not queued (the node is alive but behind). */
export class PeerOverloadedError extends Error {
  readonly nodeId: string;
  constructor(nodeId: string, options?: { cause?: unknown }) {
    super(`the link to node ${nodeId} is full`, options);
    this.name = "PeerOverloadedError";
    this.nodeId = nodeId;
  }
}
