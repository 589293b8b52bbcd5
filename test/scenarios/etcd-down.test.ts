/**
 * etcd down (docs/cluster.md "etcd down"): two nodes on a private etcd that the test stops.
 * Calls in progress keep signaling across nodes, new sessions are served within ~2 s with
 * their announcement pending, lookups of users nobody has cached fail with `unavailable`;
 * once etcd is back, devices that connected during the outage are reachable from the other
 * node and cross-node calls work again. New calls between users a node has cached go through
 * the whole outage, and starts refused as `unavailable` do not use up the call-start limit.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type ClusterNodes, startClusterNodes, waitUntil } from "../support/cluster-nodes.ts";
import { type Device, mobileDevice, webDevice } from "../support/devices.ts";
import { type EtcdProcess, startPrivateEtcd } from "../support/etcd-control.ts";
import type { ServerProcess } from "../support/server-process.ts";

const Outcome = { COMPLETED: 1 };
const SdpType = { OFFER: 1 };
/** `maxAnnounceWaitMs` of src/cluster-stack.ts: the longest a new session waits for etcd. */
const maxAnnounceWaitMs = 2_000;

let users = 0;
const user = (name: string) => `${name}-${process.pid}-${++users}`;
const candidate = (tag: string) => ({ candidate: `candidate:${tag} 1 udp 1 127.0.0.1 9 typ host`, sdpMid: "0" });

async function open(kind: typeof mobileDevice, server: ServerProcess, userId: string): Promise<Device> {
  return kind({ baseUrl: server.baseUrl, token: await server.token(userId), userId, deviceId: "dev" });
}

async function answeredCall(caller: Device, callee: Device): Promise<string> {
  const { callId } = await caller.command("startCall", { calleeUserId: callee.userId });
  await callee.next("incomingCall", (v) => v.callId === callId);
  await callee.command("accept", { callId });
  await caller.next("callAccepted", (v) => v.callId === callId);
  return callId;
}

describe("etcd down", () => {
  let etcd: EtcdProcess;
  let cluster: ClusterNodes;
  before(async () => {
    etcd = await startPrivateEtcd();
    cluster = await startClusterNodes(etcd.endpoint, 2, { CALLDROP_CLUSTER__LEASE_TTL_S: "5" });
  });
  after(async () => {
    await cluster?.close();
    await etcd?.destroy();
  });

  test("calls go on, new sessions are served, uncached lookups are unavailable; after etcd is back, new arrivals are reachable across nodes", async () => {
    const [a, b] = cluster.nodes as [ServerProcess, ServerProcess];
    const alice = await open(mobileDevice, a, user("alice"));
    const bob = await open(webDevice, b, user("bob"));
    const callId = await answeredCall(alice, bob);

    await etcd.stop();
    try {
      for (let i = 0; i < 3; i++) {
        await alice.command("iceCandidate", { callId, ...candidate(`a${i}`) });
        assert.match((await bob.next("iceCandidate")).value.candidate, new RegExp(`^candidate:a${i} `));
        await bob.command("iceCandidate", { callId, ...candidate(`b${i}`) });
        assert.match((await alice.next("iceCandidate")).value.candidate, new RegExp(`^candidate:b${i} `));
      }
      const carol = await servedWithin(maxAnnounceWaitMs + 1_000, () => open(mobileDevice, a, user("carol")));
      const dave = await servedWithin(maxAnnounceWaitMs + 1_000, () => open(webDevice, b, user("dave")));
      await assert.rejects(carol.command("startCall", { calleeUserId: user("nobody-cached") }), {
        code: "unavailable",
        message: /presence is unavailable; retry/,
      });
      // The call in progress is still up after all that.
      await alice.command("iceCandidate", { callId, ...candidate("late") });
      assert.match((await bob.next("iceCandidate")).value.candidate, /^candidate:late /);

      await etcd.start();
      // Carol (node A) calls Dave (node B): both arrived while etcd was down.
      const second = await waitForCall(carol, dave);
      await dave.command("hangup", { callId: second });
      assert.equal((await carol.next("callEnded", (v) => v.callId === second)).value.outcome, Outcome.COMPLETED);
      carol.drop();
      dave.drop();
    } finally {
      await etcd.start();
    }
    await alice.command("hangup", { callId });
    assert.equal((await bob.next("callEnded", (v) => v.callId === callId)).value.outcome, Outcome.COMPLETED);
    alice.drop();
    bob.drop();
  });

  test("ring, answer, signal and hang up across nodes while etcd is down; retried refusals are not rate-limited; all is listed once etcd is back", async () => {
    const [a, b] = cluster.nodes as [ServerProcess, ServerProcess];
    const carol = await open(mobileDevice, a, user("carol"));
    const dave = await open(webDevice, b, user("dave"));
    const before = await answeredCall(carol, dave); // node A now knows where dave is
    await carol.command("hangup", { callId: before });
    await dave.next("callEnded", (v) => v.callId === before);

    await etcd.stop();
    try {
      // More refused starts than the call-start burst (5): each is the server's fault, none counts.
      for (let i = 0; i < 7; i++) {
        await assert.rejects(carol.command("startCall", { calleeUserId: user("nobody-cached") }), {
          code: "unavailable",
        });
      }
      const callId = await within(3_000, "a call rings and is answered with etcd down", () =>
        answeredCall(carol, dave),
      );
      await within(3_000, "an offer crosses", async () => {
        await carol.command("description", { callId, type: SdpType.OFFER, sdp: "v=0 outage-offer" });
        assert.equal((await dave.next("description", (v) => v.callId === callId)).value.sdp, "v=0 outage-offer");
      });
      await within(3_000, "a hang-up ends the call on both sides", async () => {
        await dave.command("hangup", { callId });
        const ended = await carol.next("callEnded", (v) => v.callId === callId);
        assert.equal(ended.value.outcome, Outcome.COMPLETED);
      });
      await etcd.start();
      // Once etcd is back the directory catches up: neither user is left busy with the outage call.
      const after = await waitForCall(carol, dave);
      await carol.command("hangup", { callId: after });
      assert.equal((await dave.next("callEnded", (v) => v.callId === after)).value.outcome, Outcome.COMPLETED);
    } finally {
      await etcd.start();
      carol.drop();
      dave.drop();
    }
  });
});

/** Runs `step`, failing when it takes longer than `ms` (a bound on waiting for etcd, not a speed target). */
async function within<T>(ms: number, what: string, step: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await step();
  const took = Date.now() - started;
  console.log(`# ${what}: ${took} ms`);
  assert.ok(took < ms, `${what} took ${took} ms`);
  return result;
}

/** Opens a session, failing when that takes longer than `ms`. */
async function servedWithin(ms: number, open: () => Promise<Device>): Promise<Device> {
  const started = Date.now();
  const device = await open();
  const took = Date.now() - started;
  console.log(`# session served with etcd down after ${took} ms`);
  assert.ok(took < ms, `session served after ${took} ms`);
  return device;
}

/**
 * Starts calls from `caller` to `callee` until one rings there (right after etcd is back, a start
 * may be refused or end unreachable while the nodes catch up), and answers it.
 */
async function waitForCall(caller: Device, callee: Device): Promise<string> {
  const ringing = (callId: string) =>
    caller.events.find((e) => ["ringing", "callEnded"].includes(e.case) && e.value.callId === callId);
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    const started = await caller.command("startCall", { calleeUserId: callee.userId }).catch(() => undefined);
    if (!started) continue;
    await waitUntil("the call rings or ends", () => ringing(started.callId) !== undefined);
    if (ringing(started.callId)?.case !== "ringing") continue;
    await callee.next("incomingCall", (v) => v.callId === started.callId);
    await callee.command("accept", { callId: started.callId });
    await caller.next("callAccepted", (v) => v.callId === started.callId);
    return started.callId;
  }
  throw new Error("no call from the caller rang the callee after etcd came back");
}
