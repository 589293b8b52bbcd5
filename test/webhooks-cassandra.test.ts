/**
 * Webhooks on the Cassandra store (docs/spec.md §9 "Webhooks"): the cursors live in Cassandra
 * (schema v7), a retried event is delivered once, and a server killed and started again (on a
 * fresh data directory: nothing local survives) continues from the stored cursor without
 * sending the delivered event again, and retrying the one whose failed attempt it stored (without that
 * cursor a new server would start from the events after its start, and never send it).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import {
  createTestKeyspace,
  type TestKeyspace,
  testContactPoint,
} from "../src/adapters/store/cassandra/test-support.ts";
import { createCassandraWebhookState } from "../src/adapters/webhooks/cassandra-webhook-state.ts";
import { verifyWebhook } from "../src/codec/webhook-signature.ts";
import { eventPartitionOf } from "../src/domain/call-events.ts";
import { mobileDevice } from "./support/devices.ts";
import { type ServerProcess, startServer } from "./support/server-process.ts";
import { waitFor } from "./support/wait-for.ts";
import { startWebhookReceiver, type WebhookReceiver } from "./support/webhook-receiver.ts";

const secrets = [`whsec_${randomBytes(32).toString("base64")}`];
let keyspace: TestKeyspace;
let receiver: WebhookReceiver;
let server: ServerProcess | undefined;
let env: Record<string, string>;
before(async () => {
  keyspace = await createTestKeyspace(testContactPoint());
  receiver = await startWebhookReceiver(({ nth }) => (nth <= 2 ? 500 : 200));
  const { contactPoints, localDataCenter, keyspace: name } = keyspace.config;
  env = {
    CALLDROP_STORE__KIND: "cassandra",
    CALLDROP_STORE__CASSANDRA: JSON.stringify({
      contactPoints,
      localDataCenter,
      keyspace: name,
      consistency: "ONE",
      eventSettleMs: 1000,
    }),
    CALLDROP_WEBHOOKS__ENDPOINTS: JSON.stringify([{ name: "chat", url: receiver.url, secrets, kinds: ["ended"] }]),
    CALLDROP_WEBHOOKS__INITIAL_BACKOFF_MS: "100",
    CALLDROP_WEBHOOKS__MAX_BACKOFF_MS: "300",
    CALLDROP_WEBHOOKS__POLL_INTERVAL_MS: "100",
  };
  server = await startServer(env);
});
after(async () => {
  await server?.stop();
  await receiver?.close();
  await keyspace?.drop();
});

/** A call to a user with no device (started and ended at once); resolves with its ended event id. */
async function unreachableCall(s: ServerProcess, n: number): Promise<string> {
  const d = await mobileDevice({
    baseUrl: s.baseUrl,
    token: await s.token(`caller${n}`),
    userId: `caller${n}`,
    deviceId: "p",
  });
  const { callId } = await d.command("startCall", { calleeUserId: `nobody${n}` });
  await d.next("callEnded", (v) => v.callId === callId);
  d.drop();
  return `${callId}:ended`;
}

test("cursors in Cassandra: retried then delivered once; a restarted server continues a stored retry and resends nothing delivered", async () => {
  const first = await unreachableCall(server as ServerProcess, 0);
  await waitFor(() => receiver.delivered().some((r) => r.id === first), {
    what: "the first ended webhook",
    timeoutMs: 20_000,
  });
  assert.deepEqual(
    receiver.of(first).map((r) => r.status),
    [500, 500, 200],
  );
  assert.equal(
    verifyWebhook({ ...(receiver.of(first)[2] as { headers: Record<string, string>; body: string }), secrets }).id,
    first,
  );
  const state = createCassandraWebhookState(keyspace.config);
  const partitionOf = (id: string) => eventPartitionOf(id.slice(0, -":ended".length));
  try {
    await waitFor(async () => (await state.cursor("chat", partitionOf(first)))?.position.eventId === first, {
      what: "the partition's cursor past the delivered event, in Cassandra",
    });
    // The next event fails three times; the server dies after the first failure is stored.
    receiver.respond(({ nth }) => (nth <= 3 ? 500 : 200));
    const second = await unreachableCall(server as ServerProcess, 1);
    const pending = () => state.cursor("chat", partitionOf(second)).then((c) => c?.pending);
    await waitFor(async () => (await pending())?.eventId === second, {
      what: "a failed attempt stored in Cassandra",
      timeoutMs: 20_000,
    });
    await (server as ServerProcess).stop({ signal: "SIGKILL" }); // its data directory goes too
    server = await startServer(env);
    await waitFor(() => receiver.delivered().some((r) => r.id === second), {
      what: "the second ended webhook, by the restarted server",
      timeoutMs: 20_000,
    });
    const statuses = receiver.of(second).map((r) => r.status);
    assert.deepEqual(statuses.slice(-2), [500, 200], "the schedule went on after the restart");
    assert.equal(statuses.filter((s) => s === 200).length, 1);
    assert.equal(receiver.of(first).length, 3, "the first event was not sent again after the restart");
  } finally {
    await state.close();
  }
});
