/**
 * A single node on the Cassandra store killed (-9) with calls in progress, then started again on
 * its data (docs/spec.md §3 "missed exactly once, even if the node that started the ring has died",
 * §7 every call logged): the restarted node closes the answered call it no longer runs, and rings
 * the ringing one out as missed, ended at its ring deadline, notified once. Orphan scan and grace
 * periods are shortened through config so the test takes seconds, not minutes.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  createTestKeyspace,
  type TestKeyspace,
  testContactPoint,
} from "../src/adapters/store/cassandra/test-support.ts";
import { mobileDevice } from "./support/devices.ts";
import { type ServerProcess, startServer } from "./support/server-process.ts";
import { storedRecord } from "./support/stored-record.ts";
import { waitFor } from "./support/wait-for.ts";

let keyspace: TestKeyspace;
const servers: ServerProcess[] = [];
before(async () => {
  keyspace = await createTestKeyspace(testContactPoint());
});
after(async () => {
  for (const s of servers.reverse()) await s.stop();
  await keyspace?.drop();
});

const env = () => {
  const { contactPoints, localDataCenter, keyspace: name } = keyspace.config;
  return {
    CALLDROP_STORE__KIND: "cassandra",
    CALLDROP_STORE__CASSANDRA: JSON.stringify({ contactPoints, localDataCenter, keyspace: name, consistency: "ONE" }),
    // The resume grace is not shorter than the ring timeout, as in production (30 s each): a caller
    // whose device is lost while it rings then always rings out as missed. With a shorter grace the
    // outcome would hang on how fast the node restarts (caller lost first: failed, participant_lost).
    CALLDROP_CALLS__RING_TIMEOUT_MS: "4000",
    CALLDROP_SESSIONS__RESUME_GRACE_MS: "4000",
    CALLDROP_TAKEOVER__SWEEP_INTERVAL_MS: "300",
    CALLDROP_TAKEOVER__OVERDUE_GRACE_MS: "300",
    CALLDROP_TAKEOVER__ORPHAN_SCAN_INTERVAL_MS: "1000",
  };
};

test("after a kill -9 the restarted node closes the answered call and rings out the ringing one at its deadline", async () => {
  const first = await startServer(env());
  servers.push(first);
  const device = async (userId: string) =>
    mobileDevice({ baseUrl: first.baseUrl, token: await first.token(userId), userId, deviceId: "p" });
  const [alice, bob, carol, dave] = [
    await device("alice"),
    await device("bob"),
    await device("carol"),
    await device("dave"),
  ];
  const answered = await alice.command("startCall", { calleeUserId: "bob" });
  await bob.next("incomingCall");
  await bob.command("accept", { callId: answered.callId });
  await alice.next("callAccepted");
  await alice.command("mediaState", { callId: answered.callId, state: 1, path: 1 }); // CONNECTED, P2P
  const ringing = await carol.command("startCall", { calleeUserId: "dave" });
  await dave.next("incomingCall");
  // Both are durable in Cassandra before the crash (the writes are asynchronous).
  assert.ok(
    (await storedRecord(keyspace.config, answered.callId, "is answered", (r) => r?.answeredAtMs !== undefined))
      ?.answeredAtMs,
  );
  assert.ok(await storedRecord(keyspace.config, ringing.callId, "exists", (r) => r !== undefined));
  await first.stop({ keepData: true, signal: "SIGKILL" });
  for (const d of [alice, bob, carol, dave]) d.drop();

  const second = await startServer(env(), first.dataDir);
  servers.push(second);
  const closed = await storedRecord(
    keyspace.config,
    answered.callId,
    "has an outcome",
    (r) => r?.outcome !== undefined,
  );
  assert.equal(closed?.outcome, "failed", `the answered call is closed: ${JSON.stringify(closed)}`);
  assert.equal(closed?.endReason, "participant_lost");
  assert.ok(closed?.endedAtMs !== undefined && closed.endedAtMs > (closed.answeredAtMs ?? Infinity));
  const missed = await storedRecord(keyspace.config, ringing.callId, "has an outcome", (r) => r?.outcome !== undefined);
  assert.equal(missed?.outcome, "missed", `the ringing call is missed: ${JSON.stringify(missed)}`);
  assert.equal(missed?.endedAtMs, missed?.ringDeadlineMs, "ended at its ring deadline, not when it was picked up");
  const notified = () =>
    [...first.logs, ...second.logs].filter((l) => l.notification === "missed_call" && l.callId === ringing.callId);
  await waitFor(() => notified().length > 0, { what: "the missed-call notification" });
  assert.equal(notified().length, 1, "one missed-call notification");
});
