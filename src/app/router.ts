/**
 * Delivery of session events to devices on any node (docs/spec.md §10): a device with
 * a session here gets the event from the local hub; any other goes to the node that
 * holds its session, as a `deliver` message. Callers that know where a device is
 * (the node running a call tracks its participants) pass the node, so the hot path
 * needs no lookup; otherwise presence (cached, watch-invalidated) is asked.
 */
import type { Logger } from "pino";
import { deviceKey } from "../domain/call-guards.ts";
import type { DeviceRef } from "../domain/call-types.ts";
import { DomainError } from "../domain/errors.ts";
import type { Clock } from "./ports/clock.ts";
import { type PeerMessage, PeerOverloadedError, type Peers } from "./ports/peers.ts";
import type { Presence } from "./ports/presence.ts";
import type { SessionEventBody } from "./session-events.ts";
import type { SessionHub } from "./session-hub.ts";

/** Sends session events to devices wherever their sessions are. */
export interface Delivery {
  /**
   * Sends an event to one device: to node `at` when the caller knows where it is,
   * else wherever presence says. An event for a device with no session anywhere
   * goes to the router's `onUndeliverable`.
   */
  deliver(to: DeviceRef, body: SessionEventBody, at?: string): void;
  /** Sends an event to every device of a user, on every node. */
  deliverToUser(userId: string, body: SessionEventBody): void;
  /** Devices of the user with a session on any node. */
  liveDevices(userId: string): Promise<string[]>;
  /** The node holding the device's session, or undefined. */
  whereIs(device: DeviceRef): Promise<string | undefined>;
  /** Whether the link to `nodeId` is too far behind to take more signaling (backpressure). */
  congested(nodeId: string): boolean;
}

type DeliverMessage = Extract<PeerMessage, { kind: "deliver" }>;

/** The delivery of one node, with the handlers of its inbound messages. */
export interface Router extends Delivery {
  /** A `deliver` message from another node. */
  receive(fromNodeId: string, message: DeliverMessage): void;
  /** A session of this node moved to `nodeId`: its events arriving here go on there for a while. */
  moved(device: DeviceRef, nodeId: string): void;
  /** Node `nodeId` left: nothing is sent there any more; `unacknowledged` are delivered anew. */
  nodeLeft(nodeId: string, unacknowledged: readonly PeerMessage[]): void;
}

/** Options of the router. */
export interface RouterOptions {
  readonly nodeId: string;
  readonly hub: Pick<SessionHub, "deliver" | "deliverToUser">;
  readonly presence: Presence;
  readonly peers: Pick<Peers, "send" | "backlog">;
  readonly clock: Pick<Clock, "now">;
  readonly logger: Logger;
  /** How long events for a session that moved away are passed on. */
  readonly movedTtlMs: number;
  /** Unacknowledged messages to one node beyond which new signaling to it is refused. */
  readonly congestedBacklog: number;
  /** A call event found no session for its device. */
  readonly onUndeliverable: (to: DeviceRef, body: SessionEventBody) => void;
  /** A call event arrived from the node that produced it (which runs the call). */
  readonly onCallEvent: (callId: string, originNodeId: string) => void;
}

/** Creates the router of one node. */
export function createRouter(options: RouterOptions): Router {
  const { nodeId: self, hub, presence, peers, clock, logger } = options;
  /** Per user, the presence lookups in flight: events to one user keep their order. */
  const chains = new Map<string, Promise<void>>();
  const movedTo = new Map<string, { nodeId: string; untilMs: number }>();
  /** Nodes that left (never sent to again; node ids are per process incarnation). */
  const left = new Set<string>();

  function undeliverable(to: DeviceRef, body: SessionEventBody): void {
    if ("callId" in body) options.onUndeliverable(to, body);
  }

  /** Sends to a node; false only when the node is gone (an overloaded link drops the event, loudly). */
  function send(nodeId: string, message: DeliverMessage): boolean {
    if (left.has(nodeId)) return false;
    try {
      peers.send(nodeId, message);
      return true;
    } catch (err) {
      if (!(err instanceof PeerOverloadedError)) return false;
      logger.warn({ nodeId, type: message.body.type }, "link to node full: event dropped");
      return true;
    }
  }

  /** The user's devices; a presence failure (e.g. etcd unreachable and not cached) is `unavailable`. */
  async function locate(userId: string) {
    try {
      return await presence.locate(userId);
    } catch (err) {
      throw new DomainError("unavailable", "presence is unavailable; retry", { cause: err });
    }
  }

  /** Runs `then` with the user's locations, after earlier lookups for that user. */
  function withLocations(userId: string, then: (locations: Awaited<ReturnType<Presence["locate"]>>) => void): void {
    const next = (chains.get(userId) ?? Promise.resolve())
      .then(() => presence.locate(userId))
      .then(then)
      .catch((err: unknown) => logger.warn({ err, userId }, "presence lookup failed; event dropped"));
    chains.set(userId, next);
    void next.finally(() => chains.get(userId) === next && chains.delete(userId));
  }

  function local(to: DeviceRef, body: SessionEventBody, message: () => DeliverMessage): boolean {
    if (hub.deliver(to, body)) return true;
    const moved = movedTo.get(deviceKey(to));
    if (!moved) return false;
    if (moved.untilMs < clock.now()) {
      movedTo.delete(deviceKey(to));
      return false;
    }
    return send(moved.nodeId, message());
  }

  /** Sends an event for every device of a user to the other nodes holding one. */
  function toRemoteDevices(userId: string, body: SessionEventBody): void {
    withLocations(userId, (locations) => {
      for (const nodeId of new Set(locations.map((l) => l.nodeId))) {
        if (nodeId !== self) send(nodeId, { kind: "deliver", userId, body, origin: self });
      }
    });
  }

  const router: Router = {
    deliver(to, body, at) {
      const message = (): DeliverMessage => ({ kind: "deliver", ...to, body, origin: self });
      if (at === self) {
        if (!local(to, body, message)) undeliverable(to, body);
        return;
      }
      if (at !== undefined) {
        if (!send(at, message())) undeliverable(to, body);
        return;
      }
      if (local(to, body, message)) return;
      withLocations(to.userId, (locations) => {
        const where = locations.find((l) => l.deviceId === to.deviceId)?.nodeId;
        const done = where === self ? local(to, body, message) : where !== undefined && send(where, message());
        if (!done) undeliverable(to, body);
      });
    },
    deliverToUser(userId, body) {
      hub.deliverToUser(userId, body);
      toRemoteDevices(userId, body);
    },
    async liveDevices(userId) {
      return [...new Set((await locate(userId)).map((l) => l.deviceId))];
    },
    async whereIs(device) {
      return (await locate(device.userId)).find((l) => l.deviceId === device.deviceId)?.nodeId;
    },
    congested: (nodeId) => nodeId !== self && peers.backlog(nodeId) > options.congestedBacklog,
    receive(fromNodeId, message) {
      const { userId, deviceId, body } = message;
      if ("callId" in body) options.onCallEvent(body.callId, message.origin);
      if (deviceId === undefined) {
        hub.deliverToUser(userId, body);
        return;
      }
      const to = { userId, deviceId };
      if (local(to, body, () => message)) return;
      // No session here (it moved on, or ended): pass it on once, to where presence says it is.
      withLocations(userId, (locations) => {
        const where = locations.find((l) => l.deviceId === deviceId)?.nodeId;
        if (where !== undefined && where !== self && where !== fromNodeId) send(where, message);
        else logger.debug({ userId, deviceId, type: body.type }, "event for a device without a session dropped");
      });
    },
    moved(device, nodeId) {
      movedTo.set(deviceKey(device), { nodeId, untilMs: clock.now() + options.movedTtlMs });
      for (const [key, m] of movedTo) {
        if (m.untilMs >= clock.now()) break;
        movedTo.delete(key);
      }
    },
    nodeLeft(nodeId, unacknowledged) {
      left.add(nodeId);
      if (left.size > 10_000) left.delete(left.values().next().value as string);
      for (const m of unacknowledged) {
        if (m.kind !== "deliver" || m.origin !== self) continue;
        if (m.deviceId === undefined) toRemoteDevices(m.userId, m.body);
        else router.deliver({ userId: m.userId, deviceId: m.deviceId }, m.body);
      }
    },
  };
  return router;
}
