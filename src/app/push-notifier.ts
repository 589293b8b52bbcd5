/**
 * The Notifier of a server with push channels (docs/spec.md §3, §8): turns each
 * notification into one outbox row per registered device, committed before
 * `notify` resolves, and lets the dispatcher deliver them.
 *
 * - incoming_call: every registered device without a live signaling session
 *   (live ones ring in-app); expires at the ring deadline.
 * - stop_ringing: every device that was pushed the ring (pending rings are
 *   dropped first); same topic as the ring, so it replaces an undelivered one.
 * - missed_call: every registered device, exactly once per device (dedupe key);
 *   same topic as the ring, so it replaces an undelivered ring.
 */
import type { Logger } from "pino";
import type { Notification } from "../domain/call-types.ts";
import { DomainError } from "../domain/errors.ts";
import {
  createNotificationDispatcher,
  type DispatcherOptions,
  type NotificationDispatcher,
  type PushSenders,
} from "./notification-dispatcher.ts";
import type { Clock } from "./ports/clock.ts";
import type { Digests } from "./ports/digests.ts";
import type { NotificationMetrics } from "./ports/metrics.ts";
import type { NotificationOutbox, OutboxNotification } from "./ports/notification-outbox.ts";
import type { Notifier } from "./ports/notifier.ts";
import type { PushProto } from "./ports/push-proto.ts";
import { carries, type PushRegistration, type PushRegistry } from "./ports/push-registry.ts";
import { pushPayload } from "./push-payload.ts";

/** Dependencies and tuning of the push notifier. */
export interface PushNotifierDeps {
  readonly registry: PushRegistry;
  readonly outbox: NotificationOutbox;
  /** Enabled channels; devices registered on a missing channel are not pushed. */
  readonly senders: PushSenders;
  /** Whether a device has a live signaling session (the session hub's check). */
  readonly isLive: (userId: string, deviceId: string) => boolean | Promise<boolean>;
  readonly clock: Clock;
  /** Hashes the call id into the push topic. */
  readonly digests: Digests;
  /** Encodes the typed form every payload carries (`proto`). */
  readonly proto: PushProto;
  readonly metrics: NotificationMetrics;
  readonly logger: Pick<Logger, "warn" | "error">;
  /** How long a stop-ringing push may still be delivered (default 60 000). */
  readonly stopRingingTtlMs?: number;
  /** How long a missed-call push may still be delivered (default 86 400 000). */
  readonly missedCallTtlMs?: number;
  readonly dispatch?: DispatcherOptions;
}

/** A Notifier that owns its outbox dispatcher. */
export interface PushNotifier extends Notifier {
  /** Starts delivering (resumes rows left pending by a previous run). */
  start(): void;
  /** Runs the dispatcher until nothing is due (tests). */
  drain(): Promise<number>;
  /** Stops delivering; pending rows stay in the outbox for the next start. */
  close(): Promise<void>;
}

/** The dedupe key of one notification for one device. */
export function notificationKey(callId: string, kind: Notification["kind"], userId: string, deviceId: string): string {
  return [callId, kind, userId, deviceId].map(encodeURIComponent).join(":");
}

/** The push topic / collapse key of a call: ≤ 32 base64url characters (RFC 8030 §5.4). */
export function callTopic(callId: string, digests: Digests): string {
  return digests.sha256Base64url(callId).slice(0, 32);
}

/** Creates the push notifier and its dispatcher (not started). */
export function createPushNotifier(deps: PushNotifierDeps): PushNotifier {
  const { registry, outbox, senders, clock } = deps;
  const stopRingingTtlMs = deps.stopRingingTtlMs ?? 60_000;
  const missedCallTtlMs = deps.missedCallTtlMs ?? 86_400_000;
  const { metrics } = deps;
  const dispatcher: NotificationDispatcher = createNotificationDispatcher({
    outbox,
    registry,
    senders,
    clock,
    metrics,
    logger: deps.logger,
    ...(deps.dispatch ? { options: deps.dispatch } : {}),
  });

  /** The user's devices on an enabled channel that can carry `kind` (all kinds when omitted). */
  async function targets(userId: string, kind?: Notification["kind"]): Promise<PushRegistration[]> {
    return (await registry.list(userId)).filter(
      (r) => senders[r.target.channel] !== undefined && (kind === undefined || carries(r.target, kind)),
    );
  }

  function row(n: Notification, r: PushRegistration, expiresAtMs: number, payload: string): OutboxNotification {
    return {
      key: notificationKey(n.callId, n.kind, n.userId, r.deviceId),
      userId: n.userId,
      deviceId: r.deviceId,
      callId: n.callId,
      kind: n.kind,
      channel: r.target.channel,
      payload,
      urgency: n.kind === "missed_call" ? "normal" : "high",
      topic: callTopic(n.callId, deps.digests),
      expiresAtMs,
    };
  }

  async function dropRings(callId: string, now: number, reason: string): Promise<void> {
    for (const r of await outbox.dropPending(callId, "incoming_call", now, reason))
      metrics.count(r.kind, r.channel, "dropped");
  }

  async function rowsFor(n: Notification, now: number): Promise<OutboxNotification[]> {
    const devices = await targets(n.userId, n.kind);
    const payload = JSON.stringify(pushPayload(n, deps.proto.encode(n)));
    switch (n.kind) {
      case "incoming_call": {
        const live = await Promise.all(devices.map((r) => deps.isLive(n.userId, r.deviceId)));
        return devices.filter((_, i) => !live[i]).map((r) => row(n, r, n.ringDeadlineMs, payload));
      }
      case "stop_ringing": {
        const rings = (await outbox.listForCall(n.callId)).filter(
          (r) => r.kind === "incoming_call" && r.userId === n.userId && r.status !== "failed",
        );
        // A ring not yet handed over is superseded; one that may be on the device needs the stop.
        const pushed = new Set(rings.filter((r) => r.status !== "dropped").map((r) => r.deviceId));
        await dropRings(n.callId, now, `superseded by stop_ringing (${n.outcome})`);
        return devices.filter((r) => pushed.has(r.deviceId)).map((r) => row(n, r, now + stopRingingTtlMs, payload));
      }
      case "missed_call":
        await dropRings(n.callId, now, "superseded by missed_call");
        return devices.map((r) => row(n, r, now + missedCallTtlMs, payload));
    }
  }

  return {
    async hasPushTarget(userId) {
      // A registry that cannot be read (Cassandra down) must not fail the call start: the
      // callee's live devices still ring; with none, the call ends as unreachable at once.
      try {
        return (await targets(userId)).length > 0;
      } catch (err) {
        if (!(err instanceof DomainError && err.code === "unavailable")) throw err;
        deps.logger.warn({ err, userId }, "push registry unavailable: ringing live devices only");
        return false;
      }
    },
    async notify(n) {
      const now = clock.now();
      const rows = await rowsFor(n, now);
      if (rows.length === 0) return;
      const added = await outbox.enqueue(rows, now);
      if (added.length > 0) dispatcher.kick();
    },
    start: () => dispatcher.start(),
    drain: () => dispatcher.drain(),
    close: () => dispatcher.close(),
  };
}
