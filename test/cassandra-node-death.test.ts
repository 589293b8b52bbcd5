/**
 * A node dies while Cassandra is down too (docs/spec.md §3 "missed exactly once, even if the node
 * that started the ring has died"): two nodes on etcd and the Cassandra store, reached through a
 * TCP proxy the test cuts (the shared Cassandra keeps serving others). The caller's node rings
 * the call out during the outage, its finalize waits in its outbox, and it is killed; when
 * Cassandra is back the survivor finds the call still ringing in the store and rings it out.
 * The missed call is recorded once and notified once across both nodes.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import {
  createTestKeyspace,
  type TestKeyspace,
  testContactPoint,
} from "../src/adapters/store/cassandra/test-support.ts";
import { mobileDevice } from "./support/devices.ts";
import { sharedEtcdEndpoint } from "./support/etcd-control.ts";
import { type ServerProcess, startServer } from "./support/server-process.ts";
import { storedRecord } from "./support/stored-record.ts";
import { startTcpProxy, type TcpProxy } from "./support/tcp-proxy.ts";
import { waitFor } from "./support/wait-for.ts";

let keyspace: TestKeyspace;
let proxy: TcpProxy;
const servers: ServerProcess[] = [];
before(async () => {
  keyspace = await createTestKeyspace(testContactPoint());
  proxy = await startTcpProxy(testContactPoint());
});
after(async () => {
  for (const s of servers) await s.stop();
  await proxy?.close();
  await keyspace?.drop();
});

test("the caller's node dies while Cassandra is down: the call is missed once and notified once", async () => {
  const { localDataCenter, keyspace: name } = keyspace.config;
  const store = { contactPoints: [proxy.address], localDataCenter, keyspace: name, consistency: "ONE" };
  const prefix = `/calldrop-node-death-${randomBytes(4).toString("hex")}/`;
  const env = (node: string) => ({
    CALLDROP_STORE__KIND: "cassandra",
    CALLDROP_STORE__CASSANDRA: JSON.stringify({ ...store, requestTimeoutMs: 2000, connectTimeoutMs: 1000 }),
    CALLDROP_CLUSTER__ETCD_ENDPOINTS: JSON.stringify([sharedEtcdEndpoint()]),
    CALLDROP_CLUSTER__KEY_PREFIX: prefix,
    CALLDROP_CLUSTER__RELAY_SECRET: "node-death-relay-secret-0123456789",
    CALLDROP_CLUSTER__INTERNAL_PORT: "0",
    CALLDROP_CLUSTER__LEASE_TTL_S: "2",
    CALLDROP_CLUSTER__NODE_NAME: node,
    CALLDROP_CALLS__RING_TIMEOUT_MS: "2000",
    CALLDROP_TAKEOVER__SWEEP_INTERVAL_MS: "300",
    CALLDROP_TAKEOVER__OVERDUE_GRACE_MS: "300",
    CALLDROP_TAKEOVER__SECOND_PASS_MS: "1000",
    CALLDROP_TAKEOVER__ORPHAN_SCAN_INTERVAL_MS: "1000",
  });
  const a = await startServer(env("node-a"));
  servers.push(a);
  const b = await startServer(env("node-b"));
  servers.push(b);
  const alice = await mobileDevice({
    baseUrl: a.baseUrl,
    token: await a.token("alice"),
    userId: "alice",
    deviceId: "p",
  });
  const bob = await mobileDevice({ baseUrl: b.baseUrl, token: await b.token("bob"), userId: "bob", deviceId: "p" });

  const { callId } = await alice.command("startCall", { calleeUserId: "bob" }); // runs on the caller's node, A
  await bob.next("incomingCall", (v) => v.callId === callId);
  assert.ok(await storedRecord(keyspace.config, callId, "exists", (r) => r !== undefined), "the start is in Cassandra");
  await proxy.cut();
  // A rings the call out while Cassandra is down: its finalize waits in A's outbox.
  await bob.next("callEnded", (v) => v.callId === callId, 10_000);
  await a.stop({ signal: "SIGKILL" });
  servers.splice(servers.indexOf(a), 1);
  alice.drop();
  await proxy.restore();

  const missed = await storedRecord(keyspace.config, callId, "has an outcome", (r) => r?.outcome !== undefined);
  assert.equal(missed?.outcome, "missed");
  assert.equal(missed?.endedAtMs, missed?.ringDeadlineMs);
  const notified = (s: ServerProcess) =>
    s.logs.filter((l) => l.notification === "missed_call" && l.callId === callId).length;
  await waitFor(() => notified(b) > 0, { what: "node-b's missed-call notification" });
  assert.deepEqual(
    { a: notified(a), b: notified(b) },
    { a: 0, b: 1 },
    "one missed-call notification, from the node whose finalize set the outcome",
  );
  bob.drop();
});
