/**
 * Resume on any node (docs/spec.md §3): a resume token names the node that issued it.
 * A client resuming on another node makes this node ask that one for the session;
 * the holder hands it over (buffer, seq and token) and passes on, for a while,
 * events that still reach it. If the holder is gone, the session is gone with it:
 * the client gets resume_expired and opens a fresh session, which re-learns its call.
 */
import type { Logger } from "pino";
import type { DeviceRef } from "../domain/call-types.ts";
import { DomainError } from "../domain/errors.ts";
import type { Clock, TimerHandle } from "./ports/clock.ts";
import type { ClusterMetrics } from "./ports/metrics.ts";
import type { PeerMessage, Peers, SessionSnapshot } from "./ports/peers.ts";
import type { Presence } from "./ports/presence.ts";
import { type OpenRequest, type SessionHub, tokenHome } from "./session-hub.ts";

type Inbound = Extract<PeerMessage, { kind: "handoff" | "handoff_reply" }>;

/** Collaborators of the handoff. */
export interface SessionHandoffDeps {
  readonly nodeId: string;
  readonly hub: Pick<SessionHub, "release" | "adopt">;
  readonly presence: Pick<Presence, "nodes">;
  readonly peers: Pick<Peers, "send">;
  /** A session of this node moved to `nodeId` (the router passes its events on). */
  readonly onMoved: (device: DeviceRef, sessionId: string, nodeId: string) => void;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: ClusterMetrics;
  /** How long to wait for the holder's answer. */
  readonly timeoutMs: number;
}

/** Moves sessions between nodes. */
export interface SessionHandoff {
  /** Brings the session a client resumes here from the node holding it; throws resume_expired when gone. */
  fetch(request: OpenRequest & { readonly resumeToken: string }): Promise<void>;
  /** A handoff request or reply from another node. */
  receive(fromNodeId: string, message: Inbound): void;
  /** Node `nodeId` left: fetches waiting for it fail. */
  nodeLeft(nodeId: string): void;
  /**
   * Node `nodeId` could not be connected to (dead, before its lease expired): fetches waiting
   * for it fail, and for `timeoutMs` new ones fail at once instead of waiting that long.
   */
  unreachable(nodeId: string): void;
}

const expired = () => new DomainError("resume_expired", "the session is gone with its node; open a new session");

/** Creates the handoff of one node. */
export function createSessionHandoff(deps: SessionHandoffDeps): SessionHandoff {
  const { nodeId: self, hub, peers, clock, logger, metrics } = deps;
  const pending = new Map<string, { nodeId: string; settle: (error?: DomainError) => void; timer: TimerHandle }>();
  const unreachableAt = new Map<string, number>();
  let nextRequest = 0;
  const failWaitingFor = (nodeId: string) => {
    for (const waiting of [...pending.values()]) if (waiting.nodeId === nodeId) waiting.settle(expired());
  };
  const lately = (nodeId: string) => {
    const at = unreachableAt.get(nodeId);
    if (at === undefined) return false;
    if (clock.now() - at < deps.timeoutMs) return true;
    unreachableAt.delete(nodeId);
    return false;
  };

  return {
    async fetch(request) {
      const home = tokenHome(request.resumeToken);
      const live =
        home !== undefined &&
        home !== self &&
        !lately(home) &&
        (await deps.presence.nodes()).some((n) => n.nodeId === home);
      if (!live) {
        metrics.handoffs.inc({ result: "expired" });
        throw expired();
      }
      const requestId = `${++nextRequest}`;
      await new Promise<void>((resolve, reject) => {
        const settle = (error?: DomainError) => {
          pending.delete(requestId);
          clock.clearTimer(timer);
          metrics.handoffs.inc({ result: error ? (error.code === "resume_expired" ? "expired" : "failed") : "moved" });
          if (error) reject(error);
          else resolve();
        };
        const timer = clock.setTimer(deps.timeoutMs, () => settle(expired()));
        pending.set(requestId, { nodeId: home, settle, timer });
        try {
          peers.send(home, {
            kind: "handoff",
            requestId,
            userId: request.userId,
            deviceId: request.deviceId,
            resumeToken: request.resumeToken,
            lastSeq: request.lastSeq ?? 0,
          });
        } catch {
          settle(expired());
        }
      });
    },
    receive(from, message) {
      if (message.kind === "handoff_reply") {
        const waiting = pending.get(message.requestId);
        if (!waiting) return;
        const { outcome } = message;
        // Taken in synchronously: events the old holder passes on after its reply find the session.
        if (outcome.ok) hub.adopt(outcome.session);
        waiting.settle(outcome.ok ? undefined : new DomainError(outcome.code, outcome.message));
        return;
      }
      let outcome: Extract<PeerMessage, { kind: "handoff_reply" }>["outcome"];
      try {
        const session: SessionSnapshot = hub.release(message);
        deps.onMoved({ userId: session.userId, deviceId: session.deviceId }, session.sessionId, from);
        outcome = { ok: true, session };
        logger.info({ userId: session.userId, deviceId: session.deviceId, to: from }, "session handed over");
      } catch (err) {
        const e = err instanceof DomainError ? err : new DomainError("resume_expired", "session not available");
        outcome = { ok: false, code: e.code, message: e.message };
      }
      try {
        peers.send(from, { kind: "handoff_reply", requestId: message.requestId, outcome });
      } catch (err) {
        logger.warn({ err, to: from }, "handoff reply failed");
      }
    },
    nodeLeft(nodeId) {
      unreachableAt.delete(nodeId);
      failWaitingFor(nodeId);
    },
    unreachable(nodeId) {
      unreachableAt.set(nodeId, clock.now());
      failWaitingFor(nodeId);
    },
  };
}
