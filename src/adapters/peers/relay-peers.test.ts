import assert from "node:assert/strict";
import { it } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import { waitFor } from "../../../test/support/wait-for.ts";
import { peersContract } from "./peers.contract.ts";
import { type RelayPeers, startRelayPeers } from "./relay-peers.ts";

const secret = "peers-test-secret-0123456789";
const logger = pino({ level: "silent" });

async function node(nodeId: string, addresses: Map<string, string>): Promise<RelayPeers> {
  const peers = await startRelayPeers({
    nodeId,
    host: "127.0.0.1",
    port: 0,
    secret,
    resolveAddress: async (id) => addresses.get(id),
    clock: { now: () => Date.now() },
    logger,
    registry: new Registry(),
  });
  addresses.set(nodeId, `127.0.0.1:${peers.port}`);
  return peers;
}

peersContract("node relay (grpc-js, authenticated)", async () => {
  const addresses = new Map<string, string>();
  const a = await node("a", addresses);
  const b = await node("b", addresses);
  return {
    a,
    b,
    async close() {
      await a.close();
      await b.close();
    },
  };
});

it("relay peers: messages a node that left never acknowledged come back from forget, decoded", async () => {
  const addresses = new Map<string, string>();
  const a = await node("a", addresses);
  addresses.set("gone", "127.0.0.1:1"); // nothing listens there
  const message = { kind: "replaced", userId: "u", deviceId: "d", sessionId: "s" } as const;
  a.send("gone", message);
  a.send("gone", { ...message, sessionId: "s2" });
  assert.deepEqual(a.forget("gone"), [message, { ...message, sessionId: "s2" }]);
  assert.deepEqual(a.forget("gone"), []);
  await a.close();
});

it("relay peers: a node that refuses connections is reported unreachable; one that answers is not", async () => {
  const addresses = new Map<string, string>();
  const a = await node("a", addresses);
  const b = await node("b", addresses);
  const unreachable: string[] = [];
  a.onUnreachable((id) => unreachable.push(id));
  addresses.set("gone", "127.0.0.1:1"); // nothing listens there
  const message = { kind: "replaced", userId: "u", deviceId: "d", sessionId: "s" } as const;
  const received = new Promise((resolve) => b.onMessage(resolve));
  a.send("b", message);
  a.send("gone", message);
  await received;
  await waitFor(() => unreachable.includes("gone"), { what: "an unreachable report for a refused connection" });
  assert.ok(!unreachable.includes("b"));
  assert.deepEqual(a.forget("gone"), [message], "the message stays queued for it");
  await a.close();
  await b.close();
});

for (const direction of ["a sent to b", "b sent to a"] as const) {
  it(`relay peers: a peer that dies with nothing left to send is reported unreachable (its port refuses): ${direction}`, async () => {
    const addresses = new Map<string, string>();
    const a = await node("a", addresses);
    const b = await node("b", addresses);
    const unreachable: string[] = [];
    a.onUnreachable((id) => unreachable.push(id));
    const [sender, receiver, to] = direction === "a sent to b" ? [a, b, "b"] : [b, a, "a"];
    const received = new Promise((resolve) => receiver.onMessage(resolve));
    sender.send(to, { kind: "replaced", userId: "u", deviceId: "d", sessionId: "s" });
    await received;
    await waitFor(() => sender.backlog(to) === 0, { what: "the message acknowledged" });
    assert.equal(await a.refuses("b"), false, "a live peer's port accepts");
    await b.close();
    await waitFor(() => unreachable.includes("b"), { what: "an unreachable report after the peer's stream dropped" });
    assert.equal(await a.refuses("b"), true);
    assert.equal(await a.refuses("unknown"), false, "a node without an address is not taken for dead");
    await a.close();
  });
}
