/**
 * Call flows against a real server process (docs/spec.md §3): the mobile app is a
 * grpc-js client built from proto/, the web app a connect-web client. The suite runs
 * once per HTTP/2 engine (`server.http2Engine`), since mobile gRPC reaches either.
 * What hangs on time rather than on the process boundary runs on the manual clock in
 * src/app-core.test.ts (the ring timeout and missed history, a call's exact duration) and
 * test/notify/call-scenario.test.ts (the pushes of a missed call), so nothing here waits.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { blockClient, type Device, historyClient, mobileDevice, settingsClient, webDevice } from "./support/devices.ts";
import { type ServerProcess, startServer } from "./support/server-process.ts";
import { waitFor } from "./support/wait-for.ts";

const Outcome = { COMPLETED: 1, DECLINED: 3, CANCELLED: 4, BUSY: 5, UNREACHABLE: 6 };
const Path = { P2P: 1, RELAY: 2 };
const SdpType = { OFFER: 1, ANSWER: 2 };

let server: ServerProcess;

let users = 0;
const user = (name: string) => `${name}-${++users}`;

async function mobile(userId: string, deviceId = "phone"): Promise<Device> {
  return mobileDevice({ baseUrl: server.baseUrl, token: await server.token(userId), userId, deviceId });
}

async function web(userId: string, deviceId = "browser"): Promise<Device> {
  return webDevice({ baseUrl: server.baseUrl, token: await server.token(userId), userId, deviceId });
}

async function settings(userId: string) {
  return settingsClient(server.baseUrl, await server.token(userId));
}

async function history(userId: string) {
  return historyClient(server.baseUrl, await server.token(userId));
}

/** Waits until the call's record has an outcome (records are written asynchronously). */
async function finalRecord(userId: string, callId: string) {
  const h = await history(userId);
  return waitFor(
    async () => {
      const call = await h.get(callId);
      return call.outcome !== 0 && call;
    },
    { what: `an outcome in the record of ${callId}` },
  );
}

function callFlows(): void {
  test("full call: ring, accept, offer/answer, trickle ICE both ways, hang up; both histories", async () => {
    const alice = await mobile(user("alice"));
    const bob = await web(user("bob"));
    const { callId } = await alice.command("startCall", { calleeUserId: bob.userId, video: true });
    const ringing = await alice.next("ringing");
    assert.equal(ringing.value.devices, 1);
    const incoming = await bob.next("incomingCall");
    assert.equal(incoming.value.callId, callId);
    assert.equal(incoming.value.callerUserId, alice.userId);
    assert.equal(incoming.value.video, true);

    await bob.command("accept", { callId });
    assert.equal((await alice.next("callAccepted")).value.answeredDeviceId, "browser");
    await bob.next("callAccepted");

    const offer = `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n${"a=x\r\n".repeat(200)}`;
    await alice.command("description", { callId, type: SdpType.OFFER, sdp: offer });
    const gotOffer = await bob.next("description");
    assert.equal(gotOffer.value.sdp, offer);
    assert.equal(gotOffer.value.type, SdpType.OFFER);
    await bob.command("description", { callId, type: SdpType.ANSWER, sdp: "v=0\r\nanswer" });
    assert.equal((await alice.next("description")).value.sdp, "v=0\r\nanswer");

    for (let i = 0; i < 10; i++) {
      await alice.command("iceCandidate", {
        callId,
        candidate: `candidate:a${i} 1 udp 1 127.0.0.1 ${5000 + i} typ host`,
        sdpMid: "0",
      });
      await bob.command("iceCandidate", {
        callId,
        candidate: `candidate:b${i} 1 udp 1 127.0.0.1 ${6000 + i} typ host`,
        sdpMid: "0",
      });
    }
    await alice.command("iceCandidate", { callId, endOfCandidates: true });
    for (let i = 0; i < 10; i++) {
      assert.match((await bob.next("iceCandidate")).value.candidate, new RegExp(`^candidate:a${i} `));
      assert.match((await alice.next("iceCandidate")).value.candidate, new RegExp(`^candidate:b${i} `));
    }
    assert.equal((await bob.next("iceCandidate")).value.endOfCandidates, true);

    await alice.command("mediaState", { callId, state: 1, path: Path.P2P, setupMs: 420 });
    await bob.command("mediaState", { callId, state: 1, path: Path.P2P, setupMs: 440 });
    await alice.command("qualityReport", {
      callId,
      sample: {
        atMs: Date.now(),
        fractionLost: 0.01,
        jitterMs: 4,
        rttMs: 20,
        sentBitrateBps: 900_000,
        frameWidth: 640,
        frameHeight: 360,
        framesPerSecond: 30,
      },
    });
    await bob.command("hangup", { callId, reason: 1 });
    assert.equal((await alice.next("callEnded")).value.outcome, Outcome.COMPLETED);
    assert.equal((await bob.next("callEnded")).value.outcome, Outcome.COMPLETED);

    for (const who of [alice.userId, bob.userId]) {
      const record = await finalRecord(who, callId);
      assert.equal(record.outcome, Outcome.COMPLETED);
      assert.equal(record.callerUserId, alice.userId);
      assert.equal(record.calleeUserId, bob.userId);
      assert.equal(record.answeredDeviceId, "browser");
      assert.equal(record.path, Path.P2P);
      assert.equal(record.setupMs, 420);
      // The exact duration is asserted on the manual clock (src/app-core.test.ts "§3 completed"); here it crosses the wire.
      assert.ok(Number(record.durationMs) > 0, `duration ${record.durationMs}`);
      assert.equal(record.quality.samples, 1);
      assert.equal(record.quality.avgRttMs, 20);
      // One clean sample (20 ms RTT, 4 ms jitter, 1 % loss) scores good (docs/spec.md §15): verdict 1 = GOOD.
      assert.equal(record.quality.score.verdict, 1);
      assert.ok(record.quality.score.medianMos > 4.2, `MOS ${record.quality.score.medianMos}`);
      assert.equal(record.quality.score.worstMos, record.quality.score.medianMos);
      const listed = await (await history(who)).list();
      assert.equal(listed.calls[0].callId, callId);
    }
    // seq is per session, strictly increasing from 1
    for (const d of [alice, bob]) {
      const seqs = d.events.filter((e) => e.case !== "sessionReady").map((e) => e.seq);
      assert.deepEqual(
        seqs,
        seqs.map((_, i) => i + 1),
      );
    }
    alice.drop();
    bob.drop();
  });

  test("decline ends the call for the caller", async () => {
    const alice = await mobile(user("alice"));
    const bob = await mobile(user("bob"));
    const { callId } = await alice.command("startCall", { calleeUserId: bob.userId });
    await bob.next("incomingCall");
    await bob.command("decline", { callId });
    assert.equal((await alice.next("callEnded")).value.outcome, Outcome.DECLINED);
    assert.equal((await finalRecord(alice.userId, callId)).outcome, Outcome.DECLINED);
    alice.drop();
    bob.drop();
  });

  test("cancel by the caller stops the callee's ringing", async () => {
    const alice = await web(user("alice"));
    const bob = await web(user("bob"));
    const { callId } = await alice.command("startCall", { calleeUserId: bob.userId });
    await bob.next("incomingCall");
    await alice.command("cancel", { callId });
    assert.equal((await bob.next("callEnded")).value.outcome, Outcome.CANCELLED);
    assert.equal((await finalRecord(bob.userId, callId)).outcome, Outcome.CANCELLED);
    alice.drop();
    bob.drop();
  });

  test("busy: the callee is already in a call and turned call waiting off (docs/spec.md §14)", async () => {
    const [alice, bob, carol] = await Promise.all([mobile(user("alice")), mobile(user("bob")), web(user("carol"))]);
    assert.equal(await (await settings(bob.userId)).setCallWaiting(false), false);
    const first = await alice.command("startCall", { calleeUserId: bob.userId });
    await bob.next("incomingCall");
    await bob.command("accept", { callId: first.callId });
    const second = await carol.command("startCall", { calleeUserId: bob.userId });
    const ended = await carol.next("callEnded", (v) => v.callId === second.callId);
    assert.equal(ended.value.outcome, Outcome.BUSY);
    assert.equal((await finalRecord(carol.userId, second.callId)).outcome, Outcome.BUSY);
    assert.ok(!bob.events.some((e) => e.case === "incomingCall" && e.value.callId === second.callId));
    for (const d of [alice, bob, carol]) d.drop();
  });

  describe('call waiting (docs/spec.md §14 "Call waiting")', () => {
    /** alice calls bob and bob answers; then carol calls bob, whose devices ring the waiting call. */
    async function waitingCall() {
      const [alice, bob, carol] = await Promise.all([mobile(user("alice")), web(user("bob")), mobile(user("carol"))]);
      const first = await alice.command("startCall", { calleeUserId: bob.userId });
      await bob.next("incomingCall", (v) => v.callId === first.callId);
      await bob.command("accept", { callId: first.callId });
      await alice.next("callAccepted", (v) => v.callId === first.callId);
      const second = await carol.command("startCall", { calleeUserId: bob.userId });
      const incoming = await bob.next("incomingCall", (v) => v.callId === second.callId);
      assert.equal(incoming.value.waiting, true, "rings as a waiting call");
      assert.equal(incoming.value.callerUserId, carol.userId);
      assert.equal(
        (await carol.next("ringing", (v) => v.callId === second.callId)).value.devices,
        1,
        "carol hears ringing",
      );
      assert.equal(first.callId === second.callId, false);
      return { alice, bob, carol, first: first.callId, second: second.callId };
    }

    test("is on by default, and a user turns it off and on again", async () => {
      const s = await settings(user("dora"));
      assert.equal(await s.callWaiting(), true);
      assert.equal(await s.setCallWaiting(false), false);
      assert.equal(await s.callWaiting(), false);
      assert.equal(await s.setCallWaiting(true), true);
      // Only a signed-in user reads or changes their own settings.
      await assert.rejects(settingsClient(server.baseUrl, "not-a-token").setCallWaiting(false), /unauthenticated/);
    });

    test("an ordinary call does not ring as waiting", async () => {
      const [alice, bob] = await Promise.all([mobile(user("alice")), web(user("bob"))]);
      const { callId } = await alice.command("startCall", { calleeUserId: bob.userId });
      assert.equal((await bob.next("incomingCall", (v) => v.callId === callId)).value.waiting, false);
      for (const d of [alice, bob]) d.drop();
    });

    test("End & accept: the first call ends completed, the waiting call is answered", async () => {
      const { alice, bob, carol, first, second } = await waitingCall();
      await bob.command("hangup", { callId: first, reason: 1 });
      assert.equal((await alice.next("callEnded", (v) => v.callId === first)).value.outcome, Outcome.COMPLETED);
      await bob.command("accept", { callId: second });
      assert.equal((await carol.next("callAccepted", (v) => v.callId === second)).value.answeredDeviceId, "browser");
      await carol.command("hangup", { callId: second, reason: 1 });
      await bob.next("callEnded", (v) => v.callId === second);
      assert.equal((await finalRecord(alice.userId, first)).outcome, Outcome.COMPLETED);
      const answered = await finalRecord(carol.userId, second);
      assert.equal(answered.outcome, Outcome.COMPLETED);
      assert.equal(answered.answeredDeviceId, "browser");
      const bobs = (await (await history(bob.userId)).list()).calls.map((c) => [c.callId, c.outcome]);
      assert.deepEqual(bobs, [
        [second, Outcome.COMPLETED],
        [first, Outcome.COMPLETED],
      ]);
      for (const d of [alice, bob, carol]) d.drop();
    });

    test("Decline: the waiting call is declined, the first call goes on", async () => {
      const { alice, bob, carol, first, second } = await waitingCall();
      await bob.command("decline", { callId: second });
      assert.equal((await carol.next("callEnded", (v) => v.callId === second)).value.outcome, Outcome.DECLINED);
      assert.equal((await finalRecord(bob.userId, second)).outcome, Outcome.DECLINED);
      await alice.command("description", { callId: first, type: SdpType.OFFER, sdp: "v=0\r\nstill here" });
      assert.equal((await bob.next("description", (v) => v.callId === first)).value.sdp, "v=0\r\nstill here");
      assert.ok(!alice.events.some((e) => e.case === "callEnded"), "the first call runs on");
      await alice.command("hangup", { callId: first, reason: 1 });
      assert.equal((await finalRecord(bob.userId, first)).outcome, Outcome.COMPLETED);
      for (const d of [alice, bob, carol]) d.drop();
    });

    test("at most one waiting call: a third caller gets busy, and a caller in a call starts none", async () => {
      const { alice, bob, carol, first, second } = await waitingCall();
      const dave = await mobile(user("dave"));
      const third = await dave.command("startCall", { calleeUserId: bob.userId });
      assert.equal((await dave.next("callEnded", (v) => v.callId === third.callId)).value.outcome, Outcome.BUSY);
      assert.ok(!bob.events.some((e) => e.case === "incomingCall" && e.value.callId === third.callId));
      const toCarol = await dave.command("startCall", { calleeUserId: carol.userId });
      assert.equal((await dave.next("callEnded", (v) => v.callId === toCarol.callId)).value.outcome, Outcome.BUSY);
      await assert.rejects(bob.command("startCall", { calleeUserId: dave.userId }), /already in a call/);
      await carol.command("cancel", { callId: second });
      assert.equal((await bob.next("callEnded", (v) => v.callId === second)).value.outcome, Outcome.CANCELLED);
      await alice.command("hangup", { callId: first, reason: 1 });
      for (const d of [alice, bob, carol, dave]) d.drop();
    });
  });

  test("unreachable: the callee has no device and no push target", async () => {
    const alice = await mobile(user("alice"));
    const { callId } = await alice.command("startCall", { calleeUserId: user("nobody") });
    assert.equal((await alice.next("callEnded")).value.outcome, Outcome.UNREACHABLE);
    assert.equal((await finalRecord(alice.userId, callId)).outcome, Outcome.UNREACHABLE);
    alice.drop();
  });

  test("blocking (docs/spec.md §14): a blocked caller's call never rings and looks unreachable; unblocked it rings", async () => {
    const alice = await mobile(user("alice"));
    const bob = await web(user("bob"));
    const carol = await mobile(user("carol"));
    const bobBlocks = blockClient(server.baseUrl, await server.token(bob.userId));
    assert.equal(await bobBlocks.block(alice.userId), alice.userId);
    assert.deepEqual(await bobBlocks.list(), [alice.userId]);
    const blocked = await alice.command("startCall", { calleeUserId: bob.userId });
    const ended = await alice.next("callEnded", (v) => v.callId === blocked.callId);
    // Exactly what a call to a user with no device gets.
    const nobody = await alice.command("startCall", { calleeUserId: user("nobody") });
    const unreachable = await alice.next("callEnded", (v) => v.callId === nobody.callId);
    assert.deepEqual({ ...ended.value, callId: "" }, { ...unreachable.value, callId: "" });
    assert.equal(ended.value.outcome, Outcome.UNREACHABLE);
    assert.ok(!alice.events.some((e) => e.case === "ringing" && e.value.callId === blocked.callId), "no ringing");
    // Bob's session is in order: carol's ring arrives, and no ring of alice's came before it.
    const fromCarol = await carol.command("startCall", { calleeUserId: bob.userId });
    await bob.next("incomingCall", (v) => v.callId === fromCarol.callId);
    assert.ok(!bob.events.some((e) => e.value?.callId === blocked.callId), "bob heard nothing of alice's call");
    await carol.command("cancel", { callId: fromCarol.callId });
    await bob.next("callEnded", (v) => v.callId === fromCarol.callId);

    assert.equal(await bobBlocks.unblock(alice.userId), true);
    const again = await alice.command("startCall", { calleeUserId: bob.userId });
    await bob.next("incomingCall", (v) => v.callId === again.callId);
    await alice.command("cancel", { callId: again.callId });
    for (const d of [alice, bob, carol]) d.drop();
  });

  test("multi-device: every device rings, one accepts, the other is told answered elsewhere", async () => {
    const alice = await mobile(user("alice"));
    const bobUser = user("bob");
    const bobPhone = await mobile(bobUser, "phone");
    const bobLaptop = await web(bobUser, "laptop");
    const { callId } = await alice.command("startCall", { calleeUserId: bobUser });
    assert.equal((await alice.next("ringing")).value.devices, 2);
    await bobPhone.next("incomingCall");
    await bobLaptop.next("incomingCall");
    await bobLaptop.command("accept", { callId });
    assert.equal((await alice.next("callAccepted")).value.answeredDeviceId, "laptop");
    assert.equal((await bobPhone.next("answeredElsewhere")).value.answeredDeviceId, "laptop");
    await assert.rejects(bobPhone.command("accept", { callId }), { code: "failed_precondition" });
    await assert.rejects(bobPhone.command("iceCandidate", { callId, candidate: "candidate:x" }), {
      code: "permission_denied",
    });
    await alice.command("hangup", { callId });
    assert.equal((await finalRecord(bobUser, callId)).answeredDeviceId, "laptop");
    for (const d of [alice, bobPhone, bobLaptop]) d.drop();
  });

  test("glare: A calls B while B calls A becomes one call", async () => {
    const alice = await mobile(user("alice"));
    const bob = await web(user("bob"));
    const a = await alice.command("startCall", { calleeUserId: bob.userId });
    const b = await bob.command("startCall", { calleeUserId: alice.userId });
    assert.equal(b.callId, a.callId);
    assert.equal(b.mergedIntoExisting, true);
    assert.equal((await alice.next("callAccepted")).value.callId, a.callId);
    await alice.command("hangup", { callId: a.callId });
    assert.equal((await finalRecord(alice.userId, a.callId)).outcome, Outcome.COMPLETED);
    const records = (await (await history(alice.userId)).list()).calls;
    assert.equal(records.length, 1);
    alice.drop();
    bob.drop();
  });

  test("idempotency: a retried command has exactly one effect", async () => {
    const alice = await web(user("alice"));
    const bob = await mobile(user("bob"));
    const first = await alice.command("startCall", { calleeUserId: bob.userId }, "start-1");
    const retry = await alice.command("startCall", { calleeUserId: bob.userId }, "start-1");
    assert.equal(retry.callId, first.callId);
    await bob.command("accept", { callId: first.callId }, "acc-1");
    await bob.command("accept", { callId: first.callId }, "acc-1");
    await alice.command("description", { callId: first.callId, type: SdpType.OFFER, sdp: "v=0 once" }, "sdp-1");
    await alice.command("description", { callId: first.callId, type: SdpType.OFFER, sdp: "v=0 once" }, "sdp-1");
    await alice.command("hangup", { callId: first.callId });
    await bob.next("callEnded");
    assert.equal(bob.events.filter((e) => e.case === "incomingCall").length, 1);
    assert.equal(bob.events.filter((e) => e.case === "description").length, 1);
    await finalRecord(alice.userId, first.callId);
    assert.equal((await (await history(alice.userId)).list()).calls.length, 1);
    alice.drop();
    bob.drop();
  });

  test("history pages newest first with page tokens", async () => {
    const alice = await web(user("alice"));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await alice.command("startCall", { calleeUserId: user("ghost") })).callId);
    await alice.next("callEnded", (v) => v.callId === ids[4]);
    for (const id of ids) await finalRecord(alice.userId, id);
    const h = await history(alice.userId);
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await h.list({ pageSize: 2, pageToken });
      seen.push(...page.calls.map((c) => c.callId));
      pageToken = page.nextPageToken;
    } while (pageToken);
    assert.deepEqual(seen, [...ids].reverse());
    alice.drop();
  });
}

for (const engine of ["grpc-js", "connect-node"]) {
  describe(`call flows (HTTP/2 engine ${engine})`, () => {
    before(async () => {
      server = await startServer({
        CALLDROP_SERVER__HTTP2_ENGINE: engine,
      });
      assert.equal(server.logs.find((l) => l.msg === "listening")?.http2Engine, engine);
    });
    after(async () => {
      await server?.stop();
    });
    callFlows();
  });
}
