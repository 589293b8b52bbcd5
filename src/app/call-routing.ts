/**
 * Call ownership across nodes (docs/spec.md §10): every call runs on one node (the
 * caller's, at start), recorded in the call directory. A command or device notice
 * for a call run elsewhere is forwarded there and its reply awaited; the owner of a
 * call is learned from the events it sends (so the hot path costs no lookup) or
 * read from the directory once. When the owner has left, the first node that needs
 * the call takes it over (a conditional write: exactly one node wins).
 */
import type { Logger } from "pino";
import type { DeviceRef } from "../domain/call-types.ts";
import { DomainError, isDomainError } from "../domain/errors.ts";
import type { CallService } from "./call-service.ts";
import { type CommandCache, commandKey } from "./command-cache.ts";
import type { CallDirectory } from "./ports/call-directory.ts";
import type { Clock, TimerHandle } from "./ports/clock.ts";
import type { ClusterMetrics } from "./ports/metrics.ts";
import {
  type CallCommand,
  type DeviceNoticeKind,
  type PeerMessage,
  PeerOverloadedError,
  type Peers,
} from "./ports/peers.ts";
import type { Presence } from "./ports/presence.ts";
import type { CommandResult } from "./session-events.ts";

type Inbound = Extract<PeerMessage, { kind: "command" | "notice" | "reply" }>;
type Request = Extract<PeerMessage, { kind: "command" | "notice" }>;
type WithoutId<T> = T extends unknown ? Omit<T, "requestId"> : never;

/** Collaborators of the call routing. */
export interface CallRoutingDeps {
  readonly nodeId: string;
  readonly calls: CallService;
  readonly directory: CallDirectory;
  readonly presence: Pick<Presence, "nodes">;
  readonly peers: Pick<Peers, "send">;
  /** Idempotency of forwarded commands (shared with the local signaling facade). */
  readonly commands: CommandCache;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: ClusterMetrics;
  /** How long a forwarded request waits for its reply. */
  readonly requestTimeoutMs: number;
  /** Call owners remembered. Default 100 000. */
  readonly maxRoutes?: number;
}

/** Runs calls wherever they live. */
export interface CallRouting {
  /** Starts a call on this node, or answers the callee's ringing call to the caller (glare). */
  start(from: DeviceRef, commandId: string, calleeUserId: string, video: boolean): Promise<CommandResult>;
  /** Runs a device's command for a call, on the node running it. */
  run(from: DeviceRef, commandId: string, command: CallCommand): Promise<CommandResult>;
  /** Tells the nodes running the user's calls (if any; two with a waiting call) about one of the user's sessions. */
  deviceNotice(session: DeviceRef & { readonly id: string }, kind: DeviceNoticeKind): Promise<void>;
  /** A command, notice or reply from another node. */
  receive(fromNodeId: string, message: Inbound): void;
  /** `nodeId` runs `callId` (learned from its events). */
  learn(callId: string, nodeId: string): void;
  /** Node `nodeId` left: requests waiting for it are sent again to whoever runs the call now. */
  nodeLeft(nodeId: string): void;
}

/** A request's node left before it answered: the caller re-resolves the owner and retries. */
class OwnerGone extends Error {}

/** Creates the call routing of one node. */
export function createCallRouting(deps: CallRoutingDeps): CallRouting {
  const { nodeId: self, calls, directory, peers, clock, logger, metrics } = deps;
  const maxRoutes = deps.maxRoutes ?? 100_000;
  const routes = new Map<string, string>();
  const departed = new Set<string>();
  const pending = new Map<
    string,
    { nodeId: string; resolve: (r: CommandResult) => void; reject: (e: Error) => void; timer: TimerHandle }
  >();
  let nextRequest = 0;

  function learn(callId: string, nodeId: string): void {
    if (routes.get(callId) === nodeId || departed.has(nodeId)) return;
    routes.delete(callId);
    routes.set(callId, nodeId);
    if (routes.size > maxRoutes) routes.delete(routes.keys().next().value as string);
  }

  async function isLive(nodeId: string): Promise<boolean> {
    return !departed.has(nodeId) && (await deps.presence.nodes()).some((n) => n.nodeId === nodeId);
  }

  /** The node running the call; takes the call over when its owner has left. */
  async function ownerOf(callId: string): Promise<string> {
    const cached = routes.get(callId);
    if (cached !== undefined && !departed.has(cached)) return cached;
    for (let attempt = 0; attempt < 5; attempt++) {
      const live = await directory.find(callId);
      if (!live) throw new DomainError("not_found", "no such call");
      const owner = live.ownerNodeId;
      if (owner !== self && (await isLive(owner))) {
        learn(callId, owner);
        return owner;
      }
      if (owner === self || (await directory.takeOver(callId, owner, self))) {
        await calls.adopt({ ...live, ownerNodeId: self });
        return self;
      }
    }
    throw new DomainError("unavailable", "the call is moving between nodes; retry");
  }

  function request(nodeId: string, message: WithoutId<Request>): Promise<CommandResult> {
    const requestId = `${++nextRequest}`;
    return new Promise((resolve, reject) => {
      const timer = clock.setTimer(deps.requestTimeoutMs, () => {
        pending.delete(requestId);
        reject(new DomainError("unavailable", "the node running the call did not answer; retry"));
      });
      pending.set(requestId, { nodeId, resolve, reject, timer });
      try {
        peers.send(nodeId, { ...message, requestId } as Request);
      } catch (err) {
        clock.clearTimer(timer);
        pending.delete(requestId);
        reject(
          err instanceof PeerOverloadedError
            ? new DomainError("unavailable", "the node running the call is overloaded; retry", { cause: err })
            : err,
        );
      }
    });
  }

  /** Runs `work` on the node running the call, re-resolving it when that node changed or left. */
  async function onOwner(
    callId: string,
    kind: Request["kind"],
    local: () => Promise<CommandResult>,
    remote: (owner: string) => WithoutId<Request>,
  ): Promise<CommandResult> {
    for (let attempt = 0; ; attempt++) {
      const owner = calls.runs(callId) ? self : await ownerOf(callId);
      if (owner === self) return local();
      const forwarded = metrics.forwardDuration.startTimer({ kind });
      try {
        const result = await request(owner, remote(owner));
        forwarded();
        return result;
      } catch (err) {
        const stale = err instanceof OwnerGone || (isDomainError(err, "not_found") && routes.get(callId) === owner);
        if (!stale || attempt >= 3) {
          if (err instanceof OwnerGone) throw new DomainError("unavailable", "the call's node left; retry");
          throw err;
        }
        if (routes.get(callId) === owner) routes.delete(callId);
        metrics.forwardRetries.inc();
      }
    }
  }

  function reply(to: string, requestId: string, work: Promise<CommandResult>): void {
    work
      .then(
        (result) => ({ ok: true as const, result }),
        (err: unknown) => {
          if (isDomainError(err)) return { ok: false as const, code: err.code, message: err.message };
          logger.error({ err }, "forwarded request failed");
          return { ok: false as const, code: "unavailable" as const, message: "internal error" };
        },
      )
      .then((outcome) => {
        try {
          peers.send(to, { kind: "reply", requestId, outcome });
        } catch (err) {
          logger.warn({ err, to }, "reply to node failed");
        }
      });
  }

  const routing: CallRouting = {
    async start(from, commandId, calleeUserId, video) {
      for (let attempt = 0; ; attempt++) {
        const started = await calls.start(from, calleeUserId, video);
        if (started.kind === "started") return { callId: started.callId, mergedIntoExisting: false };
        try {
          // Glare: the callee is ringing us; answering that call is the one call both wanted.
          await routing.run(from, `${commandId}#glare`, { kind: "accept", callId: started.callId });
          return { callId: started.callId, mergedIntoExisting: true };
        } catch (err) {
          // That call ended meanwhile: start afresh (once).
          if (!isDomainError(err, "illegal_transition") || attempt >= 1) throw err;
        }
      }
    },
    run(from, commandId, command) {
      const { callId } = command;
      return onOwner(
        callId,
        "command",
        () => calls.command(from, command, self),
        () => ({ kind: "command", from, commandId, command }),
      );
    },
    async deviceNotice(session, kind) {
      const device = { userId: session.userId, deviceId: session.deviceId };
      // Every call the user is in: an answered one and a waiting one (docs/spec.md §14 "Call waiting").
      const live = await directory.callsOfUser(session.userId);
      await Promise.all(
        live.map(({ callId }) =>
          onOwner(
            callId,
            "notice",
            async () => {
              await calls.notice(callId, device, kind, self);
              return { callId, mergedIntoExisting: false };
            },
            () => ({ kind: "notice", callId, device, sessionId: session.id, notice: kind }),
          ),
        ),
      );
    },
    receive(from, message) {
      switch (message.kind) {
        case "command": {
          const { callId } = message.command;
          const work = deps.commands.once(commandKey(message.from, message.commandId), clock.now(), () =>
            calls.runs(callId)
              ? calls.command(message.from, message.command, from)
              : Promise.reject(new DomainError("not_found", "no such call")),
          );
          return reply(from, message.requestId, work);
        }
        case "notice": {
          const { callId } = message;
          const work = calls.runs(callId)
            ? calls
                .notice(callId, message.device, message.notice, from)
                .then(() => ({ callId, mergedIntoExisting: false }))
            : Promise.reject(new DomainError("not_found", "no such call"));
          return reply(from, message.requestId, work);
        }
        case "reply": {
          const waiting = pending.get(message.requestId);
          if (!waiting) return;
          pending.delete(message.requestId);
          clock.clearTimer(waiting.timer);
          const { outcome } = message;
          if (outcome.ok) waiting.resolve(outcome.result);
          else waiting.reject(new DomainError(outcome.code, outcome.message));
        }
      }
    },
    learn,
    nodeLeft(nodeId) {
      departed.add(nodeId);
      if (departed.size > 10_000) departed.delete(departed.values().next().value as string);
      for (const [callId, owner] of routes) if (owner === nodeId) routes.delete(callId);
      for (const [id, waiting] of pending) {
        if (waiting.nodeId !== nodeId) continue;
        pending.delete(id);
        clock.clearTimer(waiting.timer);
        waiting.reject(new OwnerGone(`node ${nodeId} left`));
      }
    },
  };
  return routing;
}
