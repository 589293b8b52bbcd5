/** The embedded store keeps call history across a server restart (PRODUCT.md §7). */
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
