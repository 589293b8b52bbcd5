import type { DeviceLocation, NodeInfo, Presence } from "../../app/ports/presence.ts";

/**
 * The state shared by in-process presence nodes: one per process. A single-node server
 * uses one node on its own registry; tests may put several nodes on one registry to
 * exercise cross-node behaviour without etcd.
 */
export interface InProcessRegistry {
  readonly nodes: Map<string, NodeInfo>;
  /** userId → deviceId → location. */
  readonly devices: Map<string, Map<string, DeviceLocation>>;
  readonly nodeLeftListeners: Set<(nodeId: string) => void>;
}

/** Creates an empty registry. */
export function createInProcessRegistry(): InProcessRegistry {
  return { nodes: new Map(), devices: new Map(), nodeLeftListeners: new Set() };
}

/** Options of an in-process presence node. */
export interface InProcessPresenceOptions {
  readonly nodeId: string;
  /** host:port of this node's internal relay listener (informational on a single node). */
  readonly address: string;
  /** Shared with other in-process nodes; a private one by default. */
  readonly registry?: InProcessRegistry;
}

/** Presence for a single node (or several nodes in one process): plain maps, no I/O. */
export function createInProcessPresence(options: InProcessPresenceOptions): Presence {
  const { nodeId, address } = options;
  const registry = options.registry ?? createInProcessRegistry();
  if (registry.nodes.has(nodeId)) throw new Error(`node ${nodeId} is already registered`);
  registry.nodes.set(nodeId, { nodeId, address });
  const own = new Set<(nodeId: string) => void>();
  let closed = false;

  const assertOpen = () => {
    if (closed) throw new Error(`presence of node ${nodeId} is closed`);
  };
  return {
    nodeId,
    async announce({ userId, deviceId, sessionId }) {
      assertOpen();
      const devices = registry.devices.get(userId) ?? new Map<string, DeviceLocation>();
      registry.devices.set(userId, devices);
      devices.set(deviceId, { userId, deviceId, nodeId, sessionId });
    },
    async withdraw(userId, deviceId, sessionId) {
      assertOpen();
      const devices = registry.devices.get(userId);
      const current = devices?.get(deviceId);
      // Only this node's copy of that exact session: a device that moved on is left alone.
      if (!devices || current?.nodeId !== nodeId || current.sessionId !== sessionId) return;
      devices.delete(deviceId);
      if (devices.size === 0) registry.devices.delete(userId);
    },
    async locate(userId) {
      return [...(registry.devices.get(userId)?.values() ?? [])];
    },
    async nodes() {
      return [...registry.nodes.values()];
    },
    onNodeLeft(listener) {
      const wrapped = (left: string) => {
        if (left !== nodeId) listener(left);
      };
      own.add(wrapped);
      registry.nodeLeftListeners.add(wrapped);
      return () => {
        own.delete(wrapped);
        registry.nodeLeftListeners.delete(wrapped);
      };
    },
    // In one process nothing can cut a node off from the registry: its liveness never lapses.
    onLeaseLost: () => () => {},
    async close() {
      if (closed) return;
      closed = true;
      for (const l of own) registry.nodeLeftListeners.delete(l);
      registry.nodes.delete(nodeId);
      for (const [userId, devices] of registry.devices) {
        for (const [deviceId, location] of devices) if (location.nodeId === nodeId) devices.delete(deviceId);
        if (devices.size === 0) registry.devices.delete(userId);
      }
      for (const l of [...registry.nodeLeftListeners]) l(nodeId);
    },
  };
}
