import { createInProcessBus, createInProcessPeers } from "./in-process-peers.ts";
import { peersContract } from "./peers.contract.ts";

peersContract("in-process", async () => {
  const bus = createInProcessBus();
  const a = createInProcessPeers("a", bus);
  const b = createInProcessPeers("b", bus);
  return {
    a,
    b,
    async close() {
      await a.close();
      await b.close();
    },
  };
});
