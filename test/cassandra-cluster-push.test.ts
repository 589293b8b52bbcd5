/**
 * Push registrations are shared by the nodes of a cluster (docs/spec.md §8): two nodes on etcd
 * and the Cassandra store, each with its own data directory as pods have. Bob's phone registers
 * through node B and has no live session; Alice calls him through node A, which runs the call:
 * A finds the phone, rings it by push, and pushes the stop when Alice cancels. Unregistering
 * through A stops the pushes of the next call, which then ends as unreachable.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import {
  createTestKeyspace,
  type TestKeyspace,
  testContactPoint,
} from "../src/adapters/store/cassandra/test-support.ts";
import { gatewaySecret } from "./notify/harness.ts";
import { type LocalGateway, startLocalGateway } from "./notify/local-gateway.ts";
import { mobileDevice } from "./support/devices.ts";
import { sharedEtcdEndpoint } from "./support/etcd-control.ts";
import { deviceClient } from "./support/push-probe.ts";
import { type ServerProcess, startServer } from "./support/server-process.ts";
import { waitFor } from "./support/wait-for.ts";

const Outcome = { CANCELLED: 4, UNREACHABLE: 6 };

let keyspace: TestKeyspace;
let gateway: LocalGateway;
const servers: ServerProcess[] = [];
before(async () => {
  keyspace = await createTestKeyspace(testContactPoint());
  gateway = await startLocalGateway(gatewaySecret);
});
after(async () => {
  for (const s of servers) await s.stop();
  await gateway?.close();
  await keyspace?.drop();
});

test("a phone registered through one node is pushed by the node that runs the call", async () => {
  const { contactPoints, localDataCenter, keyspace: name } = keyspace.config;
  const prefix = `/calldrop-cluster-push-${randomBytes(4).toString("hex")}/`;
  const env = (node: string) => ({
    CALLDROP_STORE__KIND: "cassandra",
    CALLDROP_STORE__CASSANDRA: JSON.stringify({ contactPoints, localDataCenter, keyspace: name, consistency: "ONE" }),
    CALLDROP_CLUSTER__ETCD_ENDPOINTS: JSON.stringify([sharedEtcdEndpoint()]),
    CALLDROP_CLUSTER__KEY_PREFIX: prefix,
    CALLDROP_CLUSTER__RELAY_SECRET: "cluster-push-relay-secret-0123456789",
    CALLDROP_CLUSTER__INTERNAL_PORT: "0",
    CALLDROP_CLUSTER__NODE_NAME: node,
    CALLDROP_NOTIFICATIONS__GATEWAY: JSON.stringify({ url: gateway.url, secret: gatewaySecret }),
  });
  // startServer gives each process its own data directory (sqlite file, outboxes).
  const a = await startServer(env("node-a"));
  servers.push(a);
  const b = await startServer(env("node-b"));
  servers.push(b);

  await deviceClient(b.baseUrl, await b.token("bob")).registerPhone("phone", "bob/phone");
  const pushes = (kind: string, callId: string) =>
    gateway.delivered.filter(
      (d) => d.body.token === "bob/phone" && d.body.kind === kind && d.body.payload.callId === callId,
    );
  const alice = await mobileDevice({
    baseUrl: a.baseUrl,
    token: await a.token("alice"),
    userId: "alice",
    deviceId: "p",
  });
  const { callId } = await alice.command("startCall", { calleeUserId: "bob" });
  assert.equal((await alice.next("ringing", (v) => v.callId === callId)).value.devices, 0, "no live device");
  await waitFor(() => pushes("incoming_call", callId).length > 0, { what: "node A rings bob's phone by push" });
  await alice.command("cancel", { callId });
  assert.equal((await alice.next("callEnded", (v) => v.callId === callId)).value.outcome, Outcome.CANCELLED);
  await waitFor(() => pushes("stop_ringing", callId).length > 0, { what: "node A pushes the stop" });

  // Unregistered through node A: gone for node A's next call too.
  await deviceClient(a.baseUrl, await a.token("bob")).unregister("phone");
  assert.deepEqual(await deviceClient(b.baseUrl, await b.token("bob")).list(), []);
  const next = await alice.command("startCall", { calleeUserId: "bob" });
  const ended = await alice.next("callEnded", (v) => v.callId === next.callId);
  assert.equal(ended.value.outcome, Outcome.UNREACHABLE);
  assert.equal(pushes("incoming_call", next.callId).length, 0);
  alice.drop();
});
