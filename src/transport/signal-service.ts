/**
 * SignalService handlers: the bidi `Connect` stream (mobile) and `Subscribe` +
 * `Send` (web) over one signaling facade, plus `GetIceServers`.
 */
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { Hello, SignalService } from "../../gen/calldrop/v1/signal_pb.js";
import type { IceServersAnswer } from "../app/ice-servers.ts";
import type { Clock } from "../app/ports/clock.ts";
import type { Metrics } from "../app/ports/metrics.ts";
import type { SessionEvent } from "../app/session-events.ts";
import type { Session } from "../app/session-hub.ts";
import type { Signaling } from "../app/signaling.ts";
import { commandFromProto, eventToProto } from "../codec/proto-mapping.ts";
import { DomainError, isDomainError } from "../domain/errors.ts";
import { type Identity, identityKey } from "./auth.ts";
import { createEventQueue } from "./event-queue.ts";

/** Collaborators of the handlers. */
export interface SignalServiceDeps {
  readonly signaling: Signaling;
  readonly clock: Clock;
  readonly metrics: Metrics;
  /** The GetIceServers answer for a user and an optional call id (empty: none); rejects with a DomainError. */
  readonly iceServers: (userId: string, callId: string) => Promise<IceServersAnswer>;
  readonly maxQueuedEvents: number;
  readonly maxConnectionAgeMs: number;
}

/** Reads the authenticated caller from the context (set by the auth interceptor). */
export function callerOf(ctx: HandlerContext): Identity {
  const identity = ctx.values.get(identityKey);
  if (!identity) throw new DomainError("unauthenticated", "missing bearer token");
  return identity;
}

/** Creates the SignalService implementation. */
export function createSignalService(deps: SignalServiceDeps): ServiceImpl<typeof SignalService> {
  const { signaling, clock, metrics } = deps;

  /** Streams a session's events until the client leaves, the token expires or the stream ages out. */
  async function* serve(
    identity: Identity,
    hello: Hello,
    ctx: HandlerContext,
    transport: "grpc" | "connect",
    readCommands?: (session: Session) => Promise<void>,
  ): AsyncGenerator<SessionEvent> {
    const queue = createEventQueue(deps.maxQueuedEvents);
    const session = await signaling.open(
      {
        userId: identity.userId,
        deviceId: hello.deviceId,
        ...(hello.resumeToken ? { resumeToken: hello.resumeToken, lastSeq: Number(hello.lastSeq) } : {}),
      },
      queue.sink,
    );
    queue.replayed();
    const close = (error?: DomainError) => queue.sink.close(error);
    const expiry = clock.setTimer(identity.expiresAtMs - clock.now(), () =>
      close(new DomainError("unauthenticated", "token expired; reconnect with a fresh token and resume")),
    );
    // Jitter spreads reconnects after a deploy so they do not arrive as one wave.
    const ageMs = deps.maxConnectionAgeMs * (0.9 + Math.random() * 0.2);
    const maxAge = clock.setTimer(ageMs, () => close(new DomainError("unavailable", "max connection age; resume")));
    const onAbort = () => close();
    ctx.signal.addEventListener("abort", onAbort);
    if (ctx.signal.aborted) close(); // the client left while the session was being opened
    metrics.sessionsConnected.inc({ transport });
    readCommands?.(session).then(
      () => close(),
      (err: unknown) =>
        close(isDomainError(err) ? err : new DomainError("unavailable", "stream failed", { cause: err })),
    );
    try {
      yield* queue.events;
    } finally {
      clock.clearTimer(expiry);
      clock.clearTimer(maxAge);
      ctx.signal.removeEventListener("abort", onAbort);
      metrics.sessionsConnected.dec({ transport });
      signaling.detach(session, queue.sink);
    }
  }

  return {
    async *connect(requests, ctx) {
      const identity = callerOf(ctx);
      const it = requests[Symbol.asyncIterator]();
      const first = await it.next();
      const kind = first.done ? undefined : first.value.message?.kind;
      if (kind?.case !== "hello") throw new DomainError("invalid_argument", "the first message must be hello");
      const readCommands = async (session: Session) => {
        for (let r = await it.next(); !r.done; r = await it.next()) {
          const message = r.value.message;
          const commandId = message?.commandId ?? "";
          await signaling.executeOnStream(session, commandId, () => {
            if (!message) throw new DomainError("invalid_argument", "request has no message");
            return commandFromProto(message);
          });
        }
      };
      for await (const event of serve(identity, kind.value, ctx, "grpc", readCommands)) {
        yield { event: eventToProto(event) };
      }
    },
    async *subscribe(req, ctx) {
      const identity = callerOf(ctx);
      if (!req.hello) throw new DomainError("invalid_argument", "hello is required");
      for await (const event of serve(identity, req.hello, ctx, "connect")) {
        yield { event: eventToProto(event) };
      }
    },
    async send(req, ctx) {
      const identity = callerOf(ctx);
      const session = signaling.session(req.sessionId, identity.userId);
      if (!req.message) throw new DomainError("invalid_argument", "message is required");
      const result = await signaling.execute(session, req.message.commandId, commandFromProto(req.message));
      return { result: { commandId: req.message.commandId, ...result } };
    },
    async getIceServers(req, ctx) {
      const identity = callerOf(ctx);
      const answer = await deps.iceServers(identity.userId, req.callId);
      return {
        iceServers: answer.iceServers.map((s) => ({ ...s, urls: [...s.urls] })),
        ttlSeconds: answer.ttlSeconds,
        relayOnly: answer.relayOnly,
      };
    },
  };
}
