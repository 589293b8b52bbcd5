/**
 * Keeps presence in step with this node's sessions: a session that arrives (fresh, or
 * moved here by a resume) is announced, and only then is the node running the
 * user's call told about it, so anything that call sends finds the session. A fresh
 * session replaces an older one of the device on another node. A session that ends
 * for good is withdrawn and reported lost.
 */
import type { Logger } from "pino";
import type { CallRouting } from "./call-routing.ts";
import type { Clock, TimerHandle } from "./ports/clock.ts";
import type { Peers } from "./ports/peers.ts";
import type { Presence } from "./ports/presence.ts";
import type { Session } from "./session-hub.ts";

/** Collaborators of the session presence. */
export interface SessionPresenceDeps {
  readonly nodeId: string;
  readonly presence: Pick<Presence, "announce" | "withdraw" | "locate">;
  readonly peers: Pick<Peers, "send">;
  readonly routing: Pick<CallRouting, "deviceNotice">;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Longest wait for an announcement before a session is served anyway (etcd may be down). */
  readonly maxAnnounceWaitMs: number;
}

/** This node's sessions in presence. */
export interface SessionPresence {
  /** A session is now held here: `online` (fresh) or `resumed` (moved here from another node). */
  arrived(session: Session, kind: "online" | "resumed"): void;
  /** Resolves once the arrival of `sessionId` is announced (or after the maximum wait). */
  announced(sessionId: string): Promise<void>;
  /** A session ended for good (its grace period ran out). */
  lost(session: Session): void;
  /** A session left this node without ending (handed over, or replaced elsewhere). */
  gone(session: Pick<Session, "id" | "userId" | "deviceId">): void;
  /** Withdraws every session of this node (graceful drain: no new events are routed here). */
  withdrawAll(): Promise<void>;
}

/** Creates the session presence of one node. */
export function createSessionPresence(deps: SessionPresenceDeps): SessionPresence {
  const { nodeId: self, presence, peers, routing, logger } = deps;
  const announcing = new Map<string, Promise<boolean>>();
  /** This node's current session of each device. */
  const held = new Map<string, Pick<Session, "id" | "userId" | "deviceId">>();
  const keyOf = (s: Pick<Session, "userId" | "deviceId">) => `${s.userId}\u0000${s.deviceId}`;
  const release = (s: Pick<Session, "id" | "userId" | "deviceId">) => {
    if (held.get(keyOf(s))?.id === s.id) held.delete(keyOf(s));
  };

  const withdraw = (s: Pick<Session, "id" | "userId" | "deviceId">) =>
    presence.withdraw(s.userId, s.deviceId, s.id).catch((err: unknown) => logger.warn({ err }, "withdraw failed"));

  /**
   * The user's devices, asked again (backoff up to 2 s) while presence is unreachable (etcd down)
   * and the session is still held here; undefined once it is not. Without the answer the
   * announcement cannot go out: it would overwrite an older session's key that nobody told.
   */
  async function locateWhileHeld(session: Pick<Session, "id" | "userId" | "deviceId">) {
    for (let n = 0; ; n++) {
      try {
        return await presence.locate(session.userId);
      } catch (err) {
        if (held.get(keyOf(session))?.id !== session.id) return undefined;
        logger[n === 0 ? "warn" : "debug"]({ err, userId: session.userId }, "presence lookup failed; retrying");
        await new Promise<void>((resolve) => deps.clock.setTimer(Math.min(100 * 2 ** n, 2_000), resolve));
      }
    }
  }

  return {
    arrived(session, kind) {
      held.set(keyOf(session), { id: session.id, userId: session.userId, deviceId: session.deviceId });
      const { userId, deviceId } = session;
      const announce = (async () => {
        if (kind === "online") {
          const locations = await locateWhileHeld(session);
          if (!locations) return false;
          const older = locations.find((l) => l.deviceId === deviceId && l.nodeId !== self);
          if (older) {
            try {
              peers.send(older.nodeId, { kind: "replaced", userId, deviceId, sessionId: older.sessionId });
            } catch (err) {
              logger.warn({ err, nodeId: older.nodeId }, "could not tell a node its session was replaced");
            }
          }
        }
        await presence.announce({ userId, deviceId, sessionId: session.id });
        return true;
      })();
      announcing.set(session.id, announce);
      announce
        .then((done) => (done ? routing.deviceNotice(session, kind) : undefined))
        .catch((err: unknown) => logger.warn({ err, userId, deviceId }, "session arrival not fully propagated"))
        .finally(() => announcing.delete(session.id));
    },
    async announced(sessionId) {
      const announce = announcing.get(sessionId);
      if (!announce) return;
      let timer: TimerHandle | undefined;
      const wait = new Promise<void>((resolve) => {
        timer = deps.clock.setTimer(deps.maxAnnounceWaitMs, resolve);
      });
      await Promise.race([announce.catch(() => {}), wait]);
      if (timer) deps.clock.clearTimer(timer);
    },
    lost(session) {
      release(session);
      void withdraw(session);
      routing
        .deviceNotice(session, "lost")
        .catch((err: unknown) => logger.warn({ err, userId: session.userId }, "device loss not propagated"));
    },
    gone(session) {
      release(session);
      void withdraw(session);
    },
    async withdrawAll() {
      await Promise.all([...held.values()].map(withdraw));
    },
  };
}
