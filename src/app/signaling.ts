/**
 * The signaling facade the transport calls: opens and resumes device sessions and
 * runs client commands with validation, per-user rate limits and idempotency.
 * Same semantics for the bidi stream (results as events) and Subscribe + Send.
 */
import type { Command } from "../domain/commands.ts";
import { DomainError, isDomainError } from "../domain/errors.ts";
import { checkCommand, checkCommandId, checkDeviceId } from "../domain/limits.ts";
import type { CallRouting } from "./call-routing.ts";
import { type CommandCache, commandKey } from "./command-cache.ts";
import type { Clock } from "./ports/clock.ts";
import type { Metrics } from "./ports/metrics.ts";
import type { RateLimiter } from "./rate-limiter.ts";
import type { CommandResult } from "./session-events.ts";
import type { SessionHandoff } from "./session-handoff.ts";
import type { OpenRequest, Session, SessionHub, SessionSink } from "./session-hub.ts";
import type { SessionPresence } from "./session-presence.ts";

/** Collaborators of the facade. */
export interface SignalingDeps {
  readonly hub: SessionHub;
  /** Runs call commands on whichever node runs the call. */
  readonly calls: Pick<CallRouting, "start" | "run">;
  /** Announces sessions that arrive here. */
  readonly sessions: Pick<SessionPresence, "arrived" | "announced">;
  /** Brings sessions resumed here from the node holding them. */
  readonly handoff: Pick<SessionHandoff, "fetch">;
  readonly clock: Clock;
  readonly commands: CommandCache;
  readonly callStartLimit: RateLimiter;
  readonly messageLimit: RateLimiter;
  readonly metrics: Metrics;
}

/** What the transport uses. */
export interface Signaling {
  /**
   * Opens or resumes the session of an authenticated user's device (resuming one held
   * by another node moves it here); resolves once the session is reachable cluster-wide.
   */
  open(request: OpenRequest, sink: SessionSink): Promise<Session>;
  /** The stream of `sink` ended. */
  detach(session: Session, sink: SessionSink): void;
  /** The caller's session `sessionId` (for Send), or not_found. */
  session(sessionId: string, userId: string): Session;
  /** Runs one command; resolves with its result, rejects with a DomainError. */
  execute(session: Session, commandId: string, command: Command): Promise<CommandResult>;
  /**
   * Runs one command from a bidi stream: the result or error (including a decoding
   * error thrown by `decode`) goes out as a session event, and the stream goes on.
   */
  executeOnStream(session: Session, commandId: string, decode: () => Command): Promise<void>;
}

/** Creates the facade. */
export function createSignaling(deps: SignalingDeps): Signaling {
  const { hub, calls, clock, metrics } = deps;

  async function dispatch(session: Session, commandId: string, command: Command): Promise<CommandResult> {
    const from = { userId: session.userId, deviceId: session.deviceId };
    switch (command.kind) {
      case "start_call":
        try {
          return await calls.start(from, commandId, command.calleeUserId, command.video);
        } catch (err) {
          // The server could not start it now and told the client to retry: that retry is not a flood.
          if (isDomainError(err, "unavailable")) deps.callStartLimit.refund(session.userId);
          throw err;
        }
      case "signal": {
        const hop = metrics.signalHop.startTimer();
        const result = await calls.run(from, commandId, command);
        hop();
        return result;
      }
      case "ping":
        hub.deliver(from, { type: "pong", nonce: command.nonce });
        return { callId: "", mergedIntoExisting: false };
      default:
        return calls.run(from, commandId, command);
    }
  }

  function limit(session: Session, command: Command): void {
    const now = clock.now();
    if (!deps.messageLimit.take(session.userId, now)) {
      metrics.rateLimited.inc({ kind: "message" });
      throw new DomainError("rate_limited", "too many messages; slow down");
    }
    if (command.kind === "start_call" && !deps.callStartLimit.take(session.userId, now)) {
      metrics.rateLimited.inc({ kind: "call_start" });
      throw new DomainError("rate_limited", "too many calls started; try again later");
    }
  }

  const facade: Signaling = {
    async open(request, sink) {
      checkDeviceId(request.deviceId);
      const { resumeToken } = request;
      const moved = resumeToken !== undefined && !hub.holds(resumeToken);
      if (moved) await deps.handoff.fetch({ ...request, resumeToken });
      const session = hub.open(request, sink); // a fresh session is reported through the hub's onDeviceOnline
      if (moved) deps.sessions.arrived(session, "resumed");
      await deps.sessions.announced(session.id);
      return session;
    },
    detach(session, sink) {
      hub.detach(session.id, sink);
    },
    session(sessionId, userId) {
      const s = hub.find(sessionId, userId);
      if (!s) throw new DomainError("not_found", "unknown session; subscribe first");
      return s;
    },
    async execute(session, commandId, command) {
      checkCommandId(commandId);
      checkCommand(command);
      limit(session, command);
      return deps.commands.once(commandKey(session, commandId), clock.now(), () =>
        dispatch(session, commandId, command),
      );
    },
    async executeOnStream(session, commandId, decode) {
      const to = { userId: session.userId, deviceId: session.deviceId };
      try {
        const command = decode();
        const result = await facade.execute(session, commandId, command);
        if (command.kind !== "ping") hub.deliver(to, { type: "command_result", commandId, result });
      } catch (err) {
        if (!isDomainError(err)) throw err;
        hub.deliver(to, { type: "command_error", commandId, code: err.code, message: err.message });
      }
    },
  };
  return facade;
}
