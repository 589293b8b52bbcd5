/** The embedded store keeps call history across a server restart (docs/spec.md §7). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { historyClient, mobileDevice, webDevice } from "./support/devices.ts";
import { startServer } from "./support/server-process.ts";

test("call history survives a restart of the server", async () => {
  const first = await startServer();
  const alice = await mobileDevice({
    baseUrl: first.baseUrl,
    token: await first.token("alice"),
    userId: "alice",
    deviceId: "p",
  });
  const bob = await webDevice({
    baseUrl: first.baseUrl,
    token: await first.token("bob"),
    userId: "bob",
    deviceId: "w",
  });
  const { callId } = await alice.command("startCall", { calleeUserId: "bob" });
  await bob.next("incomingCall");
  await bob.command("decline", { callId });
  await alice.next("callEnded");
  alice.drop();
  bob.drop();
  await first.stop({ keepData: true });

  const second = await startServer({}, first.dataDir);
  try {
    const history = historyClient(second.baseUrl, await second.token("bob"));
    const { calls } = await history.list();
    assert.deepEqual(
      calls.map((c) => [c.callId, c.outcome]),
      [[callId, 3]], // DECLINED
    );
  } finally {
    await second.stop();
  }
});

/** A dev token from the server's own issuer (local mode), as the web client gets it. */
async function devToken(baseUrl: string, userId: string): Promise<string> {
  const res = await fetch(`${baseUrl}/dev/token?user=${userId}`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { token: string }).token;
}

// Without a configured secret, local mode signs with a key kept in the data directory.
const ownKey = { CALLDROP_AUTH__HMAC_SECRET: undefined };

test("local mode keeps its signing key across a restart: tokens stay valid", async () => {
  const first = await startServer(ownKey);
  const token = await devToken(first.baseUrl, "carol");
  await historyClient(first.baseUrl, token).list();
  await first.stop({ keepData: true });

  const second = await startServer(ownKey, first.dataDir);
  try {
    const { calls } = await historyClient(second.baseUrl, token).list();
    assert.deepEqual(calls, []);
  } finally {
    await second.stop();
  }
});

test("a call in progress at a restart is rejoined at once when its participants come back; a new call works", async () => {
  const first = await startServer(ownKey);
  // The apps keep their tokens across the restart, as the web app keeps its sign-in.
  const tokens = { alice: await devToken(first.baseUrl, "alice"), bob: await devToken(first.baseUrl, "bob") };
  const open = (baseUrl: string, userId: "alice" | "bob") =>
    mobileDevice({ baseUrl, token: tokens[userId], userId, deviceId: "p" });
  const alice = await open(first.baseUrl, "alice");
  const bob = await open(first.baseUrl, "bob");
  const { callId } = await alice.command("startCall", { calleeUserId: "bob" });
  await bob.next("incomingCall");
  await bob.command("accept", { callId });
  await alice.next("callAccepted");
  await alice.command("mediaState", { callId, state: 1, path: 1 }); // CONNECTED, P2P
  alice.drop();
  bob.drop();
  await first.stop({ keepData: true });

  const second = await startServer(ownKey, first.dataDir);
  try {
    // Fresh sessions: the old ones ended with the process.
    const alice2 = await open(second.baseUrl, "alice");
    const bob2 = await open(second.baseUrl, "bob");
    // The server puts both back into the call at once (the orphan scan would take a minute).
    await alice2.next("callAccepted", (v) => v.callId === callId, 3_000);
    await bob2.next("callAccepted", (v) => v.callId === callId, 3_000);
    await alice2.next("resync", (v) => v.callId === callId, 3_000);
    await bob2.command("hangup", { callId, reason: 1 });
    const ended = await alice2.next("callEnded", (v) => v.callId === callId);
    assert.equal(ended.value.outcome, 1); // COMPLETED
    const again = await alice2.command("startCall", { calleeUserId: "bob" });
    await bob2.next("incomingCall", (v) => v.callId === again.callId);
    await bob2.command("accept", { callId: again.callId });
    await alice2.next("callAccepted", (v) => v.callId === again.callId);
    await alice2.command("hangup", { callId: again.callId, reason: 1 });
    await bob2.next("callEnded", (v) => v.callId === again.callId);
  } finally {
    await second.stop();
  }
});
