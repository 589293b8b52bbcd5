/** Resume (docs/spec.md §3): a dropped stream reconnects with its token and last seq and loses nothing. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type CommandFailed, type Device, type DeviceOptions, mobileDevice, webDevice } from "./support/devices.ts";
import { seriesValue } from "./support/metrics-scrape.ts";
import { type ServerProcess, startServer } from "./support/server-process.ts";
import { waitFor } from "./support/wait-for.ts";

let server: ServerProcess;
before(async () => {
  server = await startServer({ CALLDROP_SESSIONS__RESUME_GRACE_MS: "3000" });
});
after(async () => {
  await server.stop();
});

async function open(kind: typeof mobileDevice, userId: string, extra: Partial<DeviceOptions> = {}): Promise<Device> {
  return kind({ baseUrl: server.baseUrl, token: await server.token(userId), userId, deviceId: "d1", ...extra });
}

async function callBetween(caller: Device, callee: Device): Promise<string> {
  const { callId } = await caller.command("startCall", { calleeUserId: callee.userId });
  await callee.next("incomingCall");
  await callee.command("accept", { callId });
  await caller.next("callAccepted");
  return callId;
}

for (const [name, kind] of [
  ["mobile (bidi Connect)", mobileDevice],
  ["web (Subscribe + Send)", webDevice],
] as const) {
  test(`${name}: stream dropped mid-call, resumed with every missed event in order`, async () => {
    const alice = await open(mobileDevice, `alice-${kind.name}`);
    const bob = await open(kind, `bob-${kind.name}`);
    const callId = await callBetween(alice, bob);
    await alice.command("iceCandidate", { callId, candidate: "candidate:before 1 udp 1 127.0.0.1 1 typ host" });
    await bob.next("iceCandidate");
    const seenSeq = bob.lastSeq();
    // The candidates below are sent while Bob is detached: wait until the server saw his stream end.
    // Bob's streams on his transport: his own, and Alice's too when both are mobile (earlier tests' have ended).
    const transport = { transport: kind === mobileDevice ? "grpc" : "connect" };
    const streams = (n: number) =>
      waitFor(async () => (await seriesValue(server.baseUrl, "calldrop_sessions_connected", transport)) === n, {
        what: `${n} attached ${transport.transport} streams`,
        state: () => seriesValue(server.baseUrl, "calldrop_sessions_connected", transport),
      });
    const attached = kind === mobileDevice ? 2 : 1;
    await streams(attached);
    bob.drop();
    await streams(attached - 1);
    for (let i = 0; i < 5; i++) {
      await alice.command("iceCandidate", { callId, candidate: `candidate:gap${i} 1 udp 1 127.0.0.1 ${i} typ host` });
    }
    const resumed = await open(kind, bob.userId, {
      resume: { resumeToken: bob.session.resumeToken, lastSeq: seenSeq },
      events: [],
    });
    const ready = await resumed.next("sessionReady");
    assert.equal(ready.value.resumed, true);
    assert.equal(resumed.session.id, bob.session.id);
    const replay = [];
    for (let i = 0; i < 5; i++) replay.push(await resumed.next("iceCandidate"));
    assert.deepEqual(
      replay.map((e) => e.value.candidate.split(" ")[0]),
      ["candidate:gap0", "candidate:gap1", "candidate:gap2", "candidate:gap3", "candidate:gap4"],
    );
    assert.deepEqual(
      replay.map((e) => e.seq),
      [1, 2, 3, 4, 5].map((i) => seenSeq + i),
    );
    // The resumed session still signals, and hangs up normally.
    await resumed.command("iceCandidate", { callId, candidate: "candidate:after 1 udp 1 127.0.0.1 9 typ host" });
    assert.match((await alice.next("iceCandidate")).value.candidate, /^candidate:after /);
    await resumed.command("hangup", { callId });
    assert.equal((await alice.next("callEnded")).value.outcome, 1);
    alice.drop();
    resumed.drop();
  });
}

for (const [name, kind] of [
  ["mobile (bidi Connect)", mobileDevice],
  ["web (Subscribe + Send)", webDevice],
] as const) {
  test(`${name}: session_ready is seq 0 on every stream, events count from 1 and a resume from 0 misses none`, async () => {
    // signal.proto ServerEvent.seq: session_ready opens each stream and is not replayed.
    const alice = await open(mobileDevice, `alice-seq-${kind.name}`);
    const bob = await open(kind, `bob-seq-${kind.name}`);
    assert.equal((await bob.next("sessionReady")).seq, 0);
    assert.equal(bob.lastSeq(), 0, "nothing but session_ready yet");
    bob.drop();
    // Whether or not the server saw the drop yet, a resume from 0 replays everything after it.
    const { callId } = await alice.command("startCall", { calleeUserId: bob.userId });
    const resumed = await open(kind, bob.userId, {
      resume: { resumeToken: bob.session.resumeToken, lastSeq: 0 },
      events: [],
    });
    const ready = await resumed.next("sessionReady");
    assert.deepEqual([ready.seq, ready.value.resumed], [0, true]);
    const incoming = await resumed.next("incomingCall");
    assert.equal(incoming.value.callId, callId);
    assert.equal(incoming.seq, 1, "the session's first event, replayed");
    await alice.command("hangup", { callId });
    alice.drop();
    resumed.drop();
  });
}

test("a resume with an unknown token is refused with failed_precondition", async () => {
  await assert.rejects(
    open(mobileDevice, "carol", { resume: { resumeToken: "not-a-token", lastSeq: 1 } }),
    (err: CommandFailed) => err.code === "failed_precondition",
  );
});

test("another user cannot take over a session with its resume token", async () => {
  const dave = await open(webDevice, "dave");
  await assert.rejects(
    open(webDevice, "mallory", { resume: { resumeToken: dave.session.resumeToken, lastSeq: 0 } }),
    (err: CommandFailed) => err.code === "failed_precondition",
  );
  dave.drop();
});

test("a participant lost beyond the grace period ends the call as failed", async () => {
  const erin = await open(mobileDevice, "erin");
  const frank = await open(webDevice, "frank");
  const callId = await callBetween(erin, frank);
  frank.drop();
  const ended = await erin.next("callEnded", (v) => v.callId === callId, 8000);
  assert.equal(ended.value.outcome, 7); // FAILED
  assert.equal(ended.value.reason, 9); // PARTICIPANT_LOST
  erin.drop();
});
