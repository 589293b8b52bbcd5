/**
 * How long a signaling stream lives (docs/spec.md): a token expiring mid-stream closes
 * it with unauthenticated, and `server.maxConnectionAgeMs` closes it with unavailable, after which
 * the client resumes its session with nothing lost.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { waitUntil } from "./support/cluster-nodes.ts";
import { mobileDevice, type TestEvent } from "./support/devices.ts";
import { type ServerProcess, startServer } from "./support/server-process.ts";

let users = 0;
const user = (name: string) => `${name}-${process.pid}-${++users}`;

describe("a token expiring mid-stream", () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  test("closes the stream with unauthenticated, telling the client to reconnect with a fresh token", async () => {
    const userId = user("alice");
    const alice = await mobileDevice({
      baseUrl: server.baseUrl,
      token: await server.token(userId, 3),
      userId,
      deviceId: "phone",
    });
    await waitUntil("the stream ended", () => alice.streamError() !== undefined, 30_000);
    assert.equal(alice.streamError()?.code, "unauthenticated");
    assert.match(alice.streamError()?.message ?? "", /token expired; reconnect with a fresh token and resume/);
  });
});

describe("server.maxConnectionAgeMs", () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer({ CALLDROP_SERVER__MAX_CONNECTION_AGE_MS: "3000" });
  });
  after(async () => {
    await server?.stop();
  });

  test("closes the stream with unavailable; the client resumes and gets what was sent meanwhile", async () => {
    const bobId = user("bob");
    const events: TestEvent[] = [];
    const open = async (resume?: { resumeToken: string; lastSeq: number }) =>
      mobileDevice({
        baseUrl: server.baseUrl,
        token: await server.token(bobId),
        userId: bobId,
        deviceId: "phone",
        events,
        ...(resume ? { resume } : {}),
      });
    const bob = await open();
    await waitUntil("Bob's stream aged out", () => bob.streamError() !== undefined, 30_000);
    assert.equal(bob.streamError()?.code, "unavailable");
    assert.match(bob.streamError()?.message ?? "", /max connection age; resume/);

    const aliceId = user("alice");
    const alice = await mobileDevice({
      baseUrl: server.baseUrl,
      token: await server.token(aliceId),
      userId: aliceId,
      deviceId: "phone",
    });
    const { callId } = await alice.command("startCall", { calleeUserId: bobId });
    const lastSeq = bob.lastSeq();
    const resumed = await open({ resumeToken: bob.session.resumeToken, lastSeq });
    assert.equal(resumed.session.id, bob.session.id, "the same session, resumed");
    assert.equal((await resumed.next("incomingCall", (v) => v.callId === callId)).value.callId, callId);
    const seqs = events.map((e) => e.seq).filter((seq) => seq > 0);
    assert.deepEqual(
      seqs,
      Array.from({ length: seqs.length }, (_, i) => i + 1),
      "no gap, no repeat",
    );
    alice.drop();
    resumed.drop();
  });
});
