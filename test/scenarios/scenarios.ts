/**
 * The scenario suite (docs/style.md 5), run on one node and on a three-node cluster by
 * single-node.test.ts and cluster.test.ts. Devices are placed on logical nodes 0–2
 * (all the same server on a single node); failing a node kills it (a single node is
 * restarted on its data, so the same assertions hold: nothing recorded twice,
 * nothing lost that the design promises to keep).
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { gatewaySecret } from "../notify/harness.ts";
import { type LocalGateway, startLocalGateway } from "../notify/local-gateway.ts";
import { type Device, type DeviceOptions, historyClient, mobileDevice, webDevice } from "../support/devices.ts";
import { deviceClient } from "../support/push-probe.ts";
import { waitFor } from "../support/wait-for.ts";
import type { Topology } from "./topology.ts";

const Outcome = { COMPLETED: 1, MISSED: 2, BUSY: 5 };
const SdpType = { OFFER: 1, ANSWER: 2 };

let users = 0;
const user = (name: string) => `${name}-${process.pid}-${++users}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const candidate = (tag: string) => ({ candidate: `candidate:${tag} 1 udp 1 127.0.0.1 9 typ host`, sdpMid: "0" });
const tagOf = (e: { value: { candidate: string } }) => e.value.candidate.split(" ")[0]?.slice("candidate:".length);

/**
 * Registers the scenarios against the topology `start` builds with the given CALLDROP_* settings
 * (the etcd ones only where there is etcd). Every node pushes through one local mobile push
 * gateway, so scenarios count the pushes each device gets.
 */
export function scenarios(
  title: string,
  start: (env: Record<string, string>) => Promise<Topology>,
  options: { etcd: boolean },
): void {
  describe(title, () => {
    let topo: Topology;
    let gateway: LocalGateway;
    before(async () => {
      gateway = await startLocalGateway(gatewaySecret);
      topo = await start({
        CALLDROP_NOTIFICATIONS__GATEWAY: JSON.stringify({ url: gateway.url, secret: gatewaySecret }),
      });
    });
    after(async () => {
      await topo?.close();
      await gateway?.close();
    });
    // Devices a scenario opened are closed after it even when it fails (an open stream keeps the file alive).
    const opened: Device[] = [];
    afterEach(() => {
      for (const d of opened.splice(0)) d.drop();
    });

    async function open(
      kind: typeof mobileDevice,
      k: number,
      userId: string,
      deviceId: string,
      extra: Partial<DeviceOptions> = {},
    ): Promise<Device> {
      const server = topo.node(k);
      const d = await kind({ baseUrl: server.baseUrl, token: await server.token(userId), userId, deviceId, ...extra });
      opened.push(d);
      return d;
    }

    /**
     * A device whose node died comes back on node `k`: its resume is refused — in a cluster at once,
     * neither after the handoff timeout (3 s) nor once the lease expired, since the dead node
     * refuses connections — and a fresh session follows.
     */
    async function comeBack(d: Device, kind: typeof mobileDevice, k: number): Promise<Device> {
      const resume = { resumeToken: d.session.resumeToken, lastSeq: d.lastSeq() };
      const started = Date.now();
      await assert.rejects(open(kind, k, d.userId, d.deviceId, { resume, events: [] }), {
        code: "failed_precondition",
      });
      const took = Date.now() - started;
      console.log(`# ${topo.kind}: resume aimed at a dead node refused after ${took} ms`);
      // Below the 2 s lease TTL of this suite: refused because the node refuses connections, not because it left.
      if (topo.kind === "cluster") assert.ok(took < 1_000, `resume aimed at a dead node refused after ${took} ms`);
      return open(kind, k, d.userId, d.deviceId, { memory: d.memory });
    }

    /** Waits until `cond` holds (a device applies resent signals asynchronously). */
    const until = (what: string, cond: () => boolean) => waitFor(cond, { what });

    /** Registers a phone of `userId` with the push gateway (token `<userId>/<deviceId>`); returns its pushes of `kind`. */
    async function pushedPhone(k: number, userId: string, deviceId: string) {
      const token = `${userId}/${deviceId}`;
      await deviceClient(topo.node(k).baseUrl, await topo.node(k).token(userId)).registerPhone(deviceId, token);
      return (kind: string, callId: string) =>
        gateway.delivered.filter(
          (d) => d.body.token === token && d.body.kind === kind && d.body.payload.callId === callId,
        );
    }

    const tags = (d: Device) => d.events.filter((e) => e.case === "iceCandidate").map(tagOf);
    const sdps = (d: Device) => d.events.filter((e) => e.case === "description").map((e) => e.value.sdp);

    /** An answered call with an offer/answer and `n` candidates each way (all applied). */
    async function negotiated(caller: Device, callee: Device, n: number): Promise<string> {
      const callId = await answeredCall(caller, callee);
      await caller.command("description", { callId, type: SdpType.OFFER, sdp: "v=0 offer" });
      await callee.next("description");
      await callee.command("description", { callId, type: SdpType.ANSWER, sdp: "v=0 answer" });
      await caller.next("description");
      for (let i = 0; i < n; i++) {
        await caller.command("iceCandidate", { callId, ...candidate(`a${i}`) });
        await callee.command("iceCandidate", { callId, ...candidate(`b${i}`) });
      }
      for (let i = 0; i < n; i++) {
        await callee.next("iceCandidate");
        await caller.next("iceCandidate");
      }
      return callId;
    }

    /** The call's record once it has an outcome (records are written in the background). */
    async function finalRecord(k: number, userId: string, callId: string) {
      const h = historyClient(topo.node(k).baseUrl, await topo.node(k).token(userId));
      return waitFor(
        async () => {
          const call = await h.get(callId);
          return call.outcome !== 0 && call;
        },
        { what: `an outcome in the record of ${callId}` },
      );
    }

    const tookOver = (callId: string) => topo.logs().some((l) => l.msg === "took over call" && l.callId === callId);

    async function answeredCall(caller: Device, callee: Device): Promise<string> {
      const { callId } = await caller.command("startCall", { calleeUserId: callee.userId, video: true });
      await callee.next("incomingCall", (v) => v.callId === callId);
      await callee.command("accept", { callId });
      await caller.next("callAccepted", (v) => v.callId === callId);
      return callId;
    }

    test("a call across nodes: ring, answer, SDP and ICE both ways, hang up; history read on a third node", async () => {
      const alice = await open(mobileDevice, 0, user("alice"), "phone");
      const bob = await open(webDevice, 1, user("bob"), "browser");
      const callId = await answeredCall(alice, bob);
      await alice.command("description", { callId, type: SdpType.OFFER, sdp: "v=0 offer" });
      assert.equal((await bob.next("description")).value.sdp, "v=0 offer");
      await bob.command("description", { callId, type: SdpType.ANSWER, sdp: "v=0 answer" });
      assert.equal((await alice.next("description")).value.sdp, "v=0 answer");
      for (let i = 0; i < 5; i++) {
        await alice.command("iceCandidate", { callId, ...candidate(`a${i}`) });
        await bob.command("iceCandidate", { callId, ...candidate(`b${i}`) });
      }
      for (let i = 0; i < 5; i++) {
        assert.equal(tagOf(await bob.next("iceCandidate")), `a${i}`);
        assert.equal(tagOf(await alice.next("iceCandidate")), `b${i}`);
      }
      await alice.command("mediaState", { callId, state: 1, path: 1, setupMs: 300 });
      await bob.command("hangup", { callId });
      assert.equal((await alice.next("callEnded")).value.outcome, Outcome.COMPLETED);
      const record = await finalRecord(2, alice.userId, callId);
      assert.equal(record.outcome, Outcome.COMPLETED);
      assert.equal(record.answeredDeviceId, "browser");
      assert.equal(record.setupMs, 300);
      alice.drop();
      bob.drop();
    });

    test("media controls across nodes (docs/spec.md §14): only in an answered call, to the other side, whole state each time", async () => {
      const alice = await open(mobileDevice, 0, user("alice"), "phone");
      const bob = await open(webDevice, 1, user("bob"), "browser");
      const mallory = await open(mobileDevice, 2, user("mallory"), "phone");
      const { callId } = await alice.command("startCall", { calleeUserId: bob.userId, video: true });
      await bob.next("incomingCall", (v) => v.callId === callId);
      await assert.rejects(alice.command("mediaControls", { callId, audioMuted: true }), {
        code: "failed_precondition",
        message: /not been answered/,
      });
      await bob.command("accept", { callId });
      await alice.next("callAccepted", (v) => v.callId === callId);
      await alice.command("mediaControls", { callId, audioMuted: true }, "alice-mute-1");
      const muted = await bob.next("mediaControls");
      assert.deepEqual(muted.value, { callId, audioMuted: true, cameraOff: false, screenSharing: false });
      await bob.command("mediaControls", { callId, cameraOff: true });
      const cameraOff = await alice.next("mediaControls");
      assert.equal(cameraOff.value.cameraOff, true);
      assert.equal(cameraOff.value.audioMuted, false);
      await assert.rejects(mallory.command("mediaControls", { callId, cameraOff: true }), {
        code: "permission_denied",
      });
      await assert.rejects(alice.command("mediaControls", { callId, audioMuted: false }, "again", "alice-mute-1"), {
        code: "invalid_argument",
        message: /resend_of is only for/,
      });
      await alice.command("mediaControls", { callId, audioMuted: false });
      assert.equal((await bob.next("mediaControls")).value.audioMuted, false);
      await bob.command("hangup", { callId });
      assert.equal((await alice.next("callEnded")).value.outcome, Outcome.COMPLETED);
      await assert.rejects(alice.command("mediaControls", { callId, audioMuted: true }), {
        code: "failed_precondition",
      });
      assert.equal(mallory.events.filter((e) => e.case === "mediaControls").length, 0, "nobody else hears it");
    });

    test("multi-device across nodes: both devices ring, one answers, the other hears answered elsewhere", async () => {
      const alice = await open(mobileDevice, 0, user("alice"), "phone");
      const bobUser = user("bob");
      const bobPhone = await open(mobileDevice, 1, bobUser, "phone");
      const bobLaptop = await open(webDevice, 2, bobUser, "laptop");
      const { callId } = await alice.command("startCall", { calleeUserId: bobUser });
      assert.equal((await alice.next("ringing")).value.devices, 2);
      await bobPhone.next("incomingCall");
      await bobLaptop.next("incomingCall");
      await bobLaptop.command("accept", { callId });
      assert.equal((await alice.next("callAccepted")).value.answeredDeviceId, "laptop");
      assert.equal((await bobPhone.next("answeredElsewhere")).value.answeredDeviceId, "laptop");
      await assert.rejects(bobPhone.command("accept", { callId }), { code: "failed_precondition" });
      await assert.rejects(bobPhone.command("iceCandidate", { callId, ...candidate("x") }), {
        code: "permission_denied",
      });
      await bobLaptop.command("iceCandidate", { callId, ...candidate("laptop") });
      assert.equal(tagOf(await alice.next("iceCandidate")), "laptop");
      await alice.command("hangup", { callId });
      await bobLaptop.next("callEnded");
      assert.equal((await finalRecord(1, bobUser, callId)).answeredDeviceId, "laptop");
      for (const d of [alice, bobPhone, bobLaptop]) d.drop();
    });

    test("glare across nodes: calls started at once become one call; one call waits (§14), a third caller gets busy", async () => {
      for (let round = 0; round < 3; round++) {
        const alice = await open(mobileDevice, round, user("alice"), "phone");
        const bob = await open(webDevice, round + 1, user("bob"), "browser");
        const [a, b] = await Promise.all([
          alice.command("startCall", { calleeUserId: bob.userId }),
          bob.command("startCall", { calleeUserId: alice.userId }),
        ]);
        assert.equal(a.callId, b.callId, "one call");
        assert.equal([a, b].filter((r) => r.mergedIntoExisting).length, 1, "exactly one side merged");
        await alice.next("callAccepted", (v) => v.callId === a.callId);
        await bob.next("callAccepted", (v) => v.callId === a.callId);
        // docs/spec.md §14 "Call waiting": carol's call waits on alice's devices; dave's, on yet another node, is busy.
        const carol = await open(mobileDevice, round + 2, user("carol"), "phone");
        const waiting = await carol.command("startCall", { calleeUserId: alice.userId });
        const rang = await alice.next("incomingCall", (v) => v.callId === waiting.callId);
        assert.equal(rang.value.waiting, true);
        const dave = await open(webDevice, round, user("dave"), "browser");
        const busy = await dave.command("startCall", { calleeUserId: alice.userId });
        assert.equal((await dave.next("callEnded", (v) => v.callId === busy.callId)).value.outcome, Outcome.BUSY);
        await carol.command("cancel", { callId: waiting.callId });
        await alice.next("callEnded", (v) => v.callId === waiting.callId);
        await alice.command("hangup", { callId: a.callId });
        await bob.next("callEnded", (v) => v.callId === a.callId);
        await finalRecord(2, alice.userId, a.callId);
        const h = historyClient(topo.node(2).baseUrl, await topo.node(2).token(alice.userId));
        const between = (await h.list()).calls.filter((c) => [c.callerUserId, c.calleeUserId].includes(bob.userId));
        assert.equal(between.length, 1, "one record for the two starts");
        for (const d of [alice, bob, carol, dave]) d.drop();
      }
    });

    test("the node running a ringing call dies: the call is missed exactly once, notified once", async () => {
      await topo.heal();
      const alice = await open(mobileDevice, 0, user("alice"), "phone");
      const bobUser = user("bob");
      // Bob's phone (signaling on node 1, pushed too) and a tablet that only gets pushes.
      const phonePushes = await pushedPhone(1, bobUser, "phone");
      const tabletPushes = await pushedPhone(1, bobUser, "tablet");
      let bobPhone = await open(mobileDevice, 1, bobUser, "phone");
      const bobSessions = [bobPhone];
      const { callId } = await alice.command("startCall", { calleeUserId: bobUser });
      await bobPhone.next("incomingCall");
      await waitFor(() => tabletPushes("incoming_call", callId).length > 0, { what: "the ring pushed to the tablet" });
      await topo.kill(0);
      const s = topo.survivor(0);
      // The caller's session died with its node: a fresh session elsewhere re-learns the ringing call.
      const alice2 = await comeBack(alice, mobileDevice, s);
      if (topo.kind === "cluster") {
        await alice2.next("ringing", (v) => v.callId === callId);
        const ended = await alice2.next("callEnded", (v) => v.callId === callId, 15_000);
        assert.equal(ended.value.outcome, Outcome.MISSED);
        assert.equal((await bobPhone.next("callEnded", (v) => v.callId === callId)).value.outcome, Outcome.MISSED);
        await bobPhone.next("missedCall", (v) => v.callId === callId);
      } else {
        // The restart may outlast the ring: the restarted node's sweep rings the call out.
        bobPhone = await comeBack(bobPhone, mobileDevice, s);
        bobSessions.push(bobPhone);
      }
      assert.equal((await finalRecord(s, bobUser, callId)).outcome, Outcome.MISSED);
      const missedList = await historyClient(topo.node(s).baseUrl, await topo.node(s).token(bobUser)).list({
        missedOnly: true,
      });
      assert.deepEqual(
        missedList.calls.map((c) => c.callId).filter((id) => id === callId),
        [callId],
        "recorded as missed once",
      );
      if (topo.kind === "cluster") assert.ok(tookOver(callId), "a surviving node took the call over");
      // Only the node whose finalize set the outcome notifies (src/app/call-effects.ts): once it is
      // durable, each device's missed-call push is on its way; a second decision would push again.
      for (const [device, pushes] of [
        ["phone", phonePushes],
        ["tablet", tabletPushes],
      ] as const) {
        await waitFor(() => pushes("missed_call", callId).length > 0, { what: `the missed-call push to ${device}` });
        assert.equal(pushes("missed_call", callId).length, 1, `one missed-call push to the ${device}`);
      }
      const missedEvents = bobSessions.flatMap((d) =>
        d.events.filter((e) => e.case === "missedCall" && e.value.callId === callId),
      );
      // Bob's session hears it once; on a single node one opened after the call ended has nothing to hear.
      if (topo.kind === "cluster") assert.equal(missedEvents.length, 1, "one missedCall event");
      else assert.ok(missedEvents.length <= 1, `at most one missedCall event, got ${missedEvents.length}`);
      alice2.drop();
      bobPhone.drop();
    });

    test("the node running a call dies mid-call: the call goes on, nothing sent before or meanwhile is lost, hang-up recorded", async () => {
      await topo.heal();
      const alice = await open(mobileDevice, 0, user("alice"), "phone");
      const bob = await open(webDevice, 1, user("bob"), "browser");
      const callId = await negotiated(alice, bob, 3);
      await alice.command("mediaState", { callId, state: 1, path: 2, setupMs: 250 });
      // The node dies right after taking Alice's last candidate: it may not have passed it on.
      await alice.command("iceCandidate", { callId, ...candidate("last-words") });
      await topo.kill(0);
      const s = topo.survivor(0);
      // The device that kept its stream (on a single node: the first back) signals while the other is away.
      const [present, away] = topo.kind === "cluster" ? [bob, alice] : [await comeBack(bob, webDevice, s), alice];
      if (topo.kind === "single") await present.next("callAccepted", (v) => v.callId === callId);
      await present.command("iceCandidate", { callId, ...candidate("while-away") });
      const back = await comeBack(away, mobileDevice, topo.survivor(1));
      assert.equal((await back.next("callAccepted", (v) => v.callId === callId)).value.answeredDeviceId, "browser");
      // Both are asked to resync: each sends its signals again and applies only what it lacked.
      await back.next("resync", (v) => v.callId === callId);
      await present.next("resync", (v) => v.callId === callId);
      // What Bob applied, over his one stream (cluster) or both his sessions (single node).
      const bobSaw = () => (topo.kind === "cluster" ? tags(bob) : [...tags(bob), ...tags(present)]);
      await until("Alice's resent signals reached Bob", () => bobSaw().includes("last-words"));
      await until("Bob's resent signals reached Alice", () => back.repeats() >= 4);
      await back.command("iceCandidate", { callId, ...candidate("after") });
      await until("Bob got Alice's candidate after the resync", () => tags(present).includes("after"));
      // Bob applied each of Alice's signals exactly once, in order; Alice got what Bob sent while she was away, once.
      assert.deepEqual(bobSaw(), ["a0", "a1", "a2", "last-words", "after"]);
      assert.deepEqual(tags(back), ["while-away"]);
      assert.deepEqual(sdps(back), [], "Alice's fresh session applied no repeat of Bob's answer");
      await back.command("hangup", { callId });
      assert.equal((await present.next("callEnded", (v) => v.callId === callId)).value.outcome, Outcome.COMPLETED);
      const record = await finalRecord(s, bob.userId, callId);
      assert.equal(record.outcome, Outcome.COMPLETED);
      assert.equal(record.answeredDeviceId, "browser");
      assert.equal(record.path, 2);
      assert.ok(tookOver(callId), "another node (or the restarted one) took the call over");
      assert.ok(record.durationMs > 0);
      back.drop();
      present.drop();
    });

    test("the node holding a session dies with events it took but never delivered: a resync brings them back", async () => {
      await topo.heal();
      const alice = await open(mobileDevice, 0, user("alice"), "phone");
      const bob = await open(webDevice, 1, user("bob"), "browser");
      const callId = await negotiated(alice, bob, 2);
      // Bob's node takes Alice's renegotiation and three candidates, Bob never processes them, and the node dies.
      bob.hold();
      for (let i = 0; i < 3; i++) await alice.command("iceCandidate", { callId, ...candidate(`h${i}`) });
      await alice.command("description", { callId, type: SdpType.OFFER, sdp: "v=0 renegotiate" });
      await until("the events reached Bob's device", () => bob.held() >= 4);
      await topo.kill(1);
      bob.drop();
      const s = topo.survivor(1);
      const bob2 = await comeBack(bob, webDevice, s);
      // On a single node Alice's session went down with it: she comes back too.
      const alice2 = topo.kind === "single" ? await comeBack(alice, mobileDevice, s) : alice;
      await bob2.next("callAccepted", (v) => v.callId === callId);
      await until("Alice's signals were resent to Bob", () => tags(bob2).length >= 3 && sdps(bob2).length >= 1);
      await bob2.command("iceCandidate", { callId, ...candidate("bob-after") });
      await alice2.next("iceCandidate", (v) => v.candidate.includes("bob-after"));
      assert.deepEqual(tags(bob2), ["h0", "h1", "h2"], "each lost candidate once, in order");
      assert.deepEqual(sdps(bob2), ["v=0 renegotiate"], "the lost offer once; the applied one not again");
      assert.ok(bob2.repeats() >= 3, "what Bob had applied came again and was dropped");
      await bob2.command("hangup", { callId });
      assert.equal((await alice2.next("callEnded", (v) => v.callId === callId)).value.outcome, Outcome.COMPLETED);
      assert.equal((await finalRecord(s, bob.userId, callId)).outcome, Outcome.COMPLETED);
      alice2.drop();
      bob2.drop();
    });

    test("a draining node: streams end with unavailable and clients resume elsewhere without losing events", async () => {
      await topo.heal();
      const k = topo.kind === "cluster" ? 2 : 0;
      const alice = await open(mobileDevice, k, user("alice"), "phone");
      const bob = await open(webDevice, k + 1, user("bob"), "browser");
      const callId = await answeredCall(alice, bob);
      const draining = topo.drain(k);
      const ended = await waitFor(() => alice.streamError(), { what: "Alice's stream ended by the drain" });
      assert.equal(ended.code, "unavailable");
      const s = topo.survivor(k);
      if (topo.kind === "single") {
        // A single node cannot hand sessions over: both streams end, and after the restart both
        // devices come back, re-learn the call and carry on signaling in it; the hang-up is recorded.
        assert.equal((await waitFor(() => bob.streamError(), { what: "Bob's stream ended" })).code, "unavailable");
        await draining;
        const alice2 = await comeBack(alice, mobileDevice, s);
        const bob2 = await comeBack(bob, webDevice, s);
        await alice2.next("callAccepted", (v) => v.callId === callId);
        await bob2.next("callAccepted", (v) => v.callId === callId);
        await bob2.command("iceCandidate", { callId, ...candidate("after-restart") });
        assert.equal(tagOf(await alice2.next("iceCandidate")), "after-restart");
        await alice2.command("hangup", { callId });
        assert.equal((await bob2.next("callEnded", (v) => v.callId === callId)).value.outcome, Outcome.COMPLETED);
        assert.equal((await finalRecord(s, bob.userId, callId)).outcome, Outcome.COMPLETED);
        alice2.drop();
        bob2.drop();
        return;
      }
      await bob.command("iceCandidate", { callId, ...candidate("during-drain") });
      const seen = alice.lastSeq();
      const resumed = await open(mobileDevice, s, alice.userId, "phone", {
        resume: { resumeToken: alice.session.resumeToken, lastSeq: seen },
        events: [],
      });
      assert.equal((await resumed.next("sessionReady")).value.resumed, true);
      assert.ok(topo.logs().some((l) => l.msg === "session handed over" && l.userId === alice.userId));
      const replay = await resumed.next("iceCandidate");
      assert.equal(tagOf(replay), "during-drain");
      assert.equal(replay.seq, seen + 1, "no gap in the session's seq");
      await draining;
      await bob.command("iceCandidate", { callId, ...candidate("after-drain") });
      assert.equal(tagOf(await resumed.next("iceCandidate")), "after-drain");
      await resumed.command("hangup", { callId });
      assert.equal((await bob.next("callEnded")).value.outcome, Outcome.COMPLETED);
      resumed.drop();
      bob.drop();
    });

    const withEtcd = options.etcd ? test : () => {};
    withEtcd("etcd restarts while calls are up: calls keep signaling, new calls work after", async () => {
      if (!topo.restartEtcd) throw new Error("this topology cannot restart etcd");
      await topo.heal();
      const alice = await open(mobileDevice, 0, user("alice"), "phone");
      const bob = await open(webDevice, 1, user("bob"), "browser");
      const callId = await answeredCall(alice, bob);
      const since = Date.now();
      const restarting = topo.restartEtcd();
      for (let i = 0; i < 5; i++) {
        await alice.command("iceCandidate", { callId, ...candidate(`during${i}`) });
        assert.equal(tagOf(await bob.next("iceCandidate")), `during${i}`);
        await sleep(200); // spreads the signals over the restart (pacing, not a wait for a state)
      }
      await restarting;
      // Leases outlive a quick etcd restart: nobody is declared dead, no call changes hands.
      const churn = topo.logs().filter((l) => Number(l.time) >= since && l.msg === "node left the cluster");
      assert.deepEqual(churn, []);
      const carol = await open(mobileDevice, 2, user("carol"), "phone");
      const dave = await open(webDevice, 0, user("dave"), "browser");
      const second = await answeredCall(carol, dave);
      await bob.command("hangup", { callId });
      assert.equal((await alice.next("callEnded")).value.outcome, Outcome.COMPLETED);
      await carol.command("hangup", { callId: second });
      assert.equal((await dave.next("callEnded")).value.outcome, Outcome.COMPLETED);
      for (const d of [alice, bob, carol, dave]) d.drop();
    });
  });
}
