/**
 * The server on the Cassandra store (docs/spec.md §7, §13): `store.kind: cassandra` from config,
 * a call through the real process, history read back through the API from Cassandra.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  createTestKeyspace,
  type TestKeyspace,
  testContactPoint,
} from "../src/adapters/store/cassandra/test-support.ts";
import { historyClient, mobileDevice, webDevice } from "./support/devices.ts";
import { type ServerProcess, startServer } from "./support/server-process.ts";
import { waitFor } from "./support/wait-for.ts";

let keyspace: TestKeyspace;
let server: ServerProcess;
before(async () => {
  keyspace = await createTestKeyspace(testContactPoint());
  const { contactPoints, localDataCenter, keyspace: name } = keyspace.config;
  server = await startServer({
    CALLDROP_STORE__KIND: "cassandra",
    CALLDROP_STORE__CASSANDRA: JSON.stringify({ contactPoints, localDataCenter, keyspace: name, consistency: "ONE" }),
    CALLDROP_CALLS__RING_TIMEOUT_MS: "1500",
  });
});
after(async () => {
  await server?.stop();
  await keyspace?.drop();
});

test("calls are recorded in Cassandra and listed newest first, missed calls filtered", async () => {
  const alice = await mobileDevice({
    baseUrl: server.baseUrl,
    token: await server.token("alice"),
    userId: "alice",
    deviceId: "p",
  });
  const bob = await webDevice({
    baseUrl: server.baseUrl,
    token: await server.token("bob"),
    userId: "bob",
    deviceId: "w",
  });
  const answered = await alice.command("startCall", { calleeUserId: "bob" });
  await bob.next("incomingCall");
  await bob.command("accept", { callId: answered.callId });
  await bob.command("mediaState", { callId: answered.callId, state: 1, path: 1, setupMs: 250 });
  await alice.command("hangup", { callId: answered.callId });
  await bob.next("callEnded");
  const missed = await alice.command("startCall", { calleeUserId: "bob" });
  await bob.next("incomingCall", (v) => v.callId === missed.callId);
  await bob.next("missedCall", (v) => v.callId === missed.callId, 6000);

  const history = historyClient(server.baseUrl, await server.token("bob"));
  // Both outcomes are written in the background: wait until the history has them.
  const calls: { callId: string; outcome: number; path: number; setupMs: number }[] = await waitFor(
    async () => {
      const done = (await history.list()).calls.filter((c) => c.outcome !== 0);
      return done.length >= 2 && done;
    },
    { what: "both calls' outcomes in bob's history" },
  );
  assert.deepEqual(
    calls.map((c) => [c.callId, c.outcome]),
    [
      [missed.callId, 2], // MISSED
      [answered.callId, 1], // COMPLETED
    ],
  );
  assert.equal(calls[1]?.path, 1);
  assert.equal(calls[1]?.setupMs, 250);
  assert.deepEqual(
    (await history.list({ missedOnly: true })).calls.map((c) => c.callId),
    [missed.callId],
  );
  assert.ok(server.logs.every((l) => l.msg !== "call store write failed"));
  alice.drop();
  bob.drop();
});
