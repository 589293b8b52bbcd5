import type { Presence } from "../../app/ports/presence.ts";
import { createInProcessPresence, createInProcessRegistry } from "./in-process-presence.ts";
import { presenceContract } from "./presence.contract.ts";

presenceContract("in-process", async () => {
  const registry = createInProcessRegistry();
  const nodes: Presence[] = [];
  return {
    async startNode(nodeId, address) {
      const node = createInProcessPresence({ nodeId, address, registry });
      nodes.push(node);
      return node;
    },
    async close() {
      for (const node of nodes) await node.close();
    },
  };
});
