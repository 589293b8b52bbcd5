import type { PeerMessage, Peers } from "../../app/ports/peers.ts";
import { DomainError } from "../../domain/errors.ts";

/** Nodes of one process that can message each other (a single node has a bus of its own). */
export interface InProcessBus {
  readonly nodes: Map<string, (from: string, message: PeerMessage) => void>;
}

/** Creates an empty bus. */
export function createInProcessBus(): InProcessBus {
  return { nodes: new Map() };
}

/**
 * Peers within one process (single node, and multi-node tests without a network):
 * messages are handed over on a later turn of the event loop, in send order.
 */
export function createInProcessPeers(nodeId: string, bus: InProcessBus = createInProcessBus()): Peers {
  let handler: (from: string, message: PeerMessage) => void = () => {};
  bus.nodes.set(nodeId, (from, message) => handler(from, message));
  let queue: { to: string; message: PeerMessage }[] = [];
  const flush = () => {
    const batch = queue;
    queue = [];
    for (const { to, message } of batch) bus.nodes.get(to)?.(nodeId, message);
  };
  return {
    send(to, message) {
      if (to === nodeId || !bus.nodes.has(to)) throw new DomainError("unavailable", `no node ${to}`);
      if (queue.length === 0) setImmediate(flush);
      queue.push({ to, message });
    },
    onMessage(h) {
      handler = h;
    },
    // A node of the bus is reachable until it closes; after that, `send` to it throws at once.
    onUnreachable() {},
    refuses: async (to) => to !== nodeId && !bus.nodes.has(to),
    backlog: (to) => queue.filter((q) => q.to === to).length,
    forget(to) {
      const kept = queue.filter((q) => q.to !== to);
      const dropped = queue.filter((q) => q.to === to).map((q) => q.message);
      queue = kept;
      return dropped;
    },
    async close() {
      bus.nodes.delete(nodeId);
      queue = [];
    },
  };
}
