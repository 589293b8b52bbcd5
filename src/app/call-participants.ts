/**
 * Where the devices of one call are, as the node running the call knows it: the node
 * each device last spoke from (so call events go straight there, with no presence
 * lookup on the hot path), and which participant devices currently have no session
 * anywhere. Events for an absent participant are queued until it comes back; if it
 * stays away for the grace period it counts as lost.
 */

import { deviceKey } from "../domain/call-guards.ts";
import type { DeviceRef, OutboundEvent } from "../domain/call-types.ts";
import type { Clock, TimerHandle } from "./ports/clock.ts";

/** The known location of a device: a node id, "absent", or undefined when unknown. */
export type Whereabouts = string | "absent" | undefined;

/** Tracking for one call. */
export interface CallParticipants {
  /** Where `device` is (see Whereabouts). */
  where(device: DeviceRef): Whereabouts;
  /** `device` spoke from `nodeId` (a command or a session notice). */
  at(device: DeviceRef, nodeId: string): void;
  /** `device` has no session anywhere: starts its loss timer (no-op when already absent). */
  away(device: DeviceRef): void;
  /** Queues an event for an absent device (the oldest is dropped beyond the bound). */
  queue(device: DeviceRef, event: OutboundEvent): void;
  /** `device` is back on `nodeId`: returns its queued events, oldest first, and stops its loss timer. */
  back(device: DeviceRef, nodeId: string): OutboundEvent[];
  /** `nodeId` left: every device last seen there becomes unknown; returns them. */
  nodeLeft(nodeId: string): DeviceRef[];
  /** Stops every timer. */
  dispose(): void;
}

/** Options of the tracking of one call. */
export interface CallParticipantsOptions {
  readonly clock: Clock;
  readonly graceMs: number;
  readonly maxQueued: number;
  /** An absent device stayed away for the grace period. */
  readonly onLost: (device: DeviceRef) => void;
  /** An event was dropped from a full queue. */
  readonly onOverflow: (device: DeviceRef) => void;
}

interface Absent {
  readonly device: DeviceRef;
  readonly events: OutboundEvent[];
  readonly timer: TimerHandle;
}

/** Creates the tracking of one call. */
export function createCallParticipants(options: CallParticipantsOptions): CallParticipants {
  const { clock } = options;
  const nodes = new Map<string, { device: DeviceRef; nodeId: string }>();
  const absent = new Map<string, Absent>();

  const clearAbsent = (key: string) => {
    const a = absent.get(key);
    if (!a) return [];
    clock.clearTimer(a.timer);
    absent.delete(key);
    return a.events;
  };

  return {
    where(device) {
      const key = deviceKey(device);
      if (absent.has(key)) return "absent";
      return nodes.get(key)?.nodeId;
    },
    at(device, nodeId) {
      nodes.set(deviceKey(device), { device, nodeId });
    },
    away(device) {
      const key = deviceKey(device);
      nodes.delete(key);
      if (absent.has(key)) return;
      const timer = clock.setTimer(options.graceMs, () => {
        if (absent.get(key)?.timer !== timer) return;
        absent.delete(key);
        options.onLost(device);
      });
      absent.set(key, { device, events: [], timer });
    },
    queue(device, event) {
      const a = absent.get(deviceKey(device));
      if (!a) return;
      a.events.push(event);
      if (a.events.length > options.maxQueued) {
        a.events.shift();
        options.onOverflow(device);
      }
    },
    back(device, nodeId) {
      const key = deviceKey(device);
      nodes.set(key, { device, nodeId });
      return clearAbsent(key);
    },
    nodeLeft(nodeId) {
      const gone: DeviceRef[] = [];
      for (const [key, v] of nodes) {
        if (v.nodeId !== nodeId) continue;
        nodes.delete(key);
        gone.push(v.device);
      }
      return gone;
    },
    dispose() {
      for (const key of [...absent.keys()]) clearAbsent(key);
    },
  };
}
