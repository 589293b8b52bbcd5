/**
 * The signaling facade the transport calls: opens and resumes device sessions and
 * runs client commands with validation, per-user rate limits and idempotency.
 * Same semantics for the bidi stream (results as events) and Subscribe + Send.
 */
import type { Command } from "../domain/commands.ts";
import { DomainError, isDomainError } from "../domain/errors.ts";
import { checkCommand, checkCommandId, checkDeviceId } from "../domain/limits.ts";
import type { CallService } from "./call-service.ts";
import type { CommandCache } from "./command-cache.ts";
import type { Metrics } from "./metrics.ts";
import type { Clock } from "./ports/clock.ts";
import type { RateLimiter } from "./rate-limiter.ts";
import type { CommandResult } from "./session-events.ts";
import type { OpenRequest, Session, SessionHub, SessionSink } from "./session-hub.ts";

/** Collaborators of the facade. */
export interface SignalingDeps {
  readonly hub: SessionHub;
  readonly calls: CallService;
  readonly clock: Clock;
  readonly commands: CommandCache;
  readonly callStartLimit: RateLimiter;
  readonly messageLimit: RateLimiter;
  readonly metrics: Metrics;
}

/** What the transport uses. */
export interface Signaling {
  /** Opens or resumes the session of an authenticated user's device. */
  open(request: OpenRequest, sink: SessionSink): Session;
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

  async function dispatch(session: Session, command: Command): Promise<CommandResult> {
    const from = { userId: session.userId, deviceId: session.deviceId };
    switch (command.kind) {
      case "start_call":
        return calls.start(from, command.calleeUserId, command.video);
      case "accept":
      case "decline":
      case "cancel":
      case "busy":
        return calls.apply(command.callId, { type: command.kind, by: from });
      case "hangup":
        return calls.apply(command.callId, { type: "hangup", by: from, reason: command.reason });
      case "signal": {
        const started = performance.now();
        const result = calls.apply(command.callId, { type: "relay", from, signal: command.signal });
        metrics.signalHop.observe((performance.now() - started) / 1000);
        return result;
      }
      case "media_state":
        return calls.apply(command.callId, {
          type: "media",
          from,
          state: command.state,
          ...(command.path ? { path: command.path } : {}),
          ...(command.setupMs ? { setupMs: command.setupMs } : {}),
        });
      case "quality_report":
        await calls.report(command.callId, from, command.sample);
        return { callId: command.callId, mergedIntoExisting: false };
      case "ping":
        hub.deliver(from, { type: "pong", nonce: command.nonce });
        return { callId: "", mergedIntoExisting: false };
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
    open(request, sink) {
      checkDeviceId(request.deviceId);
      return hub.open(request, sink);
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
      const key = `${session.userId}\u0000${session.deviceId}\u0000${commandId}`;
      return deps.commands.once(key, clock.now(), () => dispatch(session, command));
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
