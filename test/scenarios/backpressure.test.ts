/**
 * Backpressure (docs/cluster.md "Ownership", docs/style.md 10): a congested peer node makes
 * signaling towards it fail with `unavailable` once its link is more than 2 048 frames
 * behind, instead of queueing without bound; once the node catches up, everything accepted
 * reaches the device (its stream is not cut off by the burst) and a retry under the same
 * command id runs again.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { type ClusterNodes, startClusterNodes, waitUntil } from "../support/cluster-nodes.ts";
import { type Device, mobileDevice, rawGrpcSignalClient } from "../support/devices.ts";
import { type ServerProcess, startServer } from "../support/server-process.ts";

const SdpType = { OFFER: 1 };
/** `congestedBacklog` of src/cluster-stack.ts with the default `sessions.maxQueuedEvents` (docs/cluster.md). */
const congestedBacklog = 2_048;

let users = 0;
const user = (name: string) => `${name}-${process.pid}-${++users}`;

async function open(server: ServerProcess, userId: string): Promise<Device> {
  return mobileDevice({ baseUrl: server.baseUrl, token: await server.token(userId), userId, deviceId: "phone" });
}

/**
 * A mobile app's bidi stream driven raw, so thousands of commands can be pipelined (the test
 * devices await each result in turn): every command's outcome by command id, and every event.
 */
async function rawApp(server: ServerProcess, userId: string, hello: { resumeToken?: string; lastSeq?: number } = {}) {
  const client = rawGrpcSignalClient(server.baseUrl);
  const md = new grpc.Metadata();
  md.set("authorization", `Bearer ${await server.token(userId)}`);
  const call = client.Connect(md);
  const outcomes = new Map<string, { code?: string; message?: string; callId?: string }>();
  const events: { seq: number; kind: string; value: Record<string, unknown> }[] = [];
  let ended: grpc.ServiceError | undefined;
  call.on("data", ({ event }: { event: Record<string, unknown> }) => {
    const kind = String(event.kind);
    const value = event[kind] as Record<string, unknown>;
    if (kind === "commandResult") outcomes.set(String(value.commandId), { callId: String(value.callId) });
    else if (kind === "error")
      outcomes.set(String(value.commandId), { code: String(value.code), message: String(value.message) });
    else events.push({ seq: Number(event.seq), kind, value });
  });
  call.on("error", (err: grpc.ServiceError) => {
    ended = err;
  });
  const send = (commandId: string, kind: string, value: object) =>
    call.write({ message: { commandId, [kind]: value } });
  send("", "hello", { deviceId: "phone", ...hello });
  await waitUntil("the raw session is ready", () => events.some((e) => e.kind === "sessionReady"));
  return {
    send,
    outcomes,
    events,
    /** Sends one command and waits for its outcome. */
    async command(commandId: string, kind: string, value: object) {
      send(commandId, kind, value);
      await waitUntil(`command ${commandId} has an outcome`, () => outcomes.has(commandId));
      return outcomes.get(commandId) as { code?: string; message?: string; callId?: string };
    },
    /** Stops reading the stream (HTTP/2 flow control then holds the server's writes back). */
    pause: () => call.pause(),
    resume: () => call.resume(),
    /** The status the stream ended with, if it did. */
    ended: () => ended,
    close() {
      call.cancel();
      client.close();
    },
  };
}

/** The value of a gauge on a node's /metrics (summed over its label sets). */
async function gauge(server: ServerProcess, name: string): Promise<number> {
  const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
  return text
    .split("\n")
    .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
    .reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0);
}

describe("backpressure towards a congested peer node", () => {
  let cluster: ClusterNodes;
  before(async () => {
    const endpoint = process.env.CALLDROP_TEST_ETCD;
    if (!endpoint) throw new Error("CALLDROP_TEST_ETCD is not set (run through npm test, or npm test -- --serve)");
    cluster = await startClusterNodes(endpoint, 2, {
      // The paused node must not be declared dead meanwhile: this is congestion, not a failure.
      CALLDROP_CLUSTER__LEASE_TTL_S: "120",
      CALLDROP_LIMITS__MESSAGES_BURST: "100000",
      CALLDROP_LIMITS__MESSAGES_PER_SECOND: "100000",
    });
  });
  after(async () => {
    await cluster?.close();
  });

  test("a paused node: signaling towards it is refused with unavailable past 2 048 frames; after it resumes, everything accepted arrives once and a retry under the same id runs", async () => {
    const [a, b] = cluster.nodes as [ServerProcess, ServerProcess];
    const alice = await rawApp(a, user("alice"));
    const bob = await open(b, user("bob"));
    const { callId } = await alice.command("start", "startCall", { calleeUserId: bob.userId });
    assert.ok(callId, "the call started");
    await bob.next("incomingCall", (v) => v.callId === callId);
    await bob.command("accept", { callId });
    await waitUntil("Alice heard the accept", () => alice.events.some((e) => e.kind === "callAccepted"));
    // Connected, so no setup timer runs out while the node is paused.
    assert.equal(
      (await alice.command("media", "mediaState", { callId, state: 1, path: 1, setupMs: 100 })).code,
      undefined,
    );
    const offer = (i: number) => ({ callId, type: SdpType.OFFER, sdp: `v=0 offer ${i}` });
    const id = (i: number) => `offer-${i}`;
    const sent = 2 * congestedBacklog;

    process.kill(b.pid, "SIGSTOP");
    let accepted = 0;
    try {
      // Pipelined in windows: a client far ahead of its results would be cut off as a slow reader.
      for (let i = 0; i < sent; i += 250) {
        for (let k = i; k < i + 250; k++) alice.send(id(k), "description", offer(k));
        await waitUntil(`offers ${i}… have outcomes`, () => alice.outcomes.has(id(i + 249)), 30_000);
      }
      while (alice.outcomes.get(id(accepted))?.code === undefined && accepted < sent) accepted++;
      assert.ok(accepted > congestedBacklog && accepted <= congestedBacklog + 10, `accepted ${accepted}`);
      // Every offer after the first refusal is refused too: the queue stays bounded.
      for (let i = accepted; i < sent; i++) {
        const outcome = alice.outcomes.get(id(i));
        assert.equal(outcome?.code, "unavailable", `offer ${i}`);
        assert.match(outcome?.message ?? "", /node is overloaded; retry/);
      }
      const unacked = await gauge(a, "calldrop_relay_unacked_frames");
      assert.ok(unacked > congestedBacklog && unacked <= accepted, `unacked frames ${unacked}`);
    } finally {
      process.kill(b.pid, "SIGCONT");
    }

    const offers = () => bob.events.filter((e) => e.case === "description").map((e) => e.value.sdp);
    await waitUntil("Bob got every accepted offer", () => offers().length >= accepted, 60_000);
    assert.deepEqual(
      offers(),
      Array.from({ length: accepted }, (_, i) => `v=0 offer ${i}`),
      "each accepted offer once, in order",
    );
    assert.equal(bob.streamError(), undefined, "Bob's stream stayed up");
    await waitUntil(
      "the link to Bob's node drained",
      async () => (await gauge(a, "calldrop_relay_unacked_frames")) === 0,
    );
    // The refusal was not cached: the same command id runs now.
    alice.outcomes.delete(id(accepted));
    assert.equal((await alice.command(id(accepted), "description", offer(accepted))).code, undefined);
    await bob.next("description", (v) => v.sdp === `v=0 offer ${accepted}`);
    await alice.command("hangup", "hangup", { callId });
    assert.equal((await bob.next("callEnded")).value.outcome, 1);
    alice.close();
    bob.drop();
  });
});

/**
 * A stuck client (config `sessions.maxQueuedEvents`): its stream is closed with a clear code once
 * that many events wait, so it cannot grow the server's memory; its session keeps them for
 * replay, so a resume gets every event missed, in order, however many more arrived since.
 * The offers are incompressible: connect-node compresses, and repetitive text would fit the
 * flow-control windows whole, so the server's queue never filled.
 */
for (const engine of ["grpc-js", "connect-node"] as const) {
  describe(`a client that stops reading its stream (HTTP/2 engine ${engine})`, () => {
    const maxQueuedEvents = 64;
    let server: ServerProcess;
    before(async () => {
      server = await startServer({
        CALLDROP_SERVER__HTTP2_ENGINE: engine,
        CALLDROP_SESSIONS__MAX_QUEUED_EVENTS: String(maxQueuedEvents),
        CALLDROP_LIMITS__MESSAGES_BURST: "100000",
      });
    });
    after(async () => {
      await server?.stop();
    });

    test("its stream is closed with resource_exhausted once 64 events wait; a resume then gets every event missed, in order", async () => {
      const alice = await open(server, user("alice"));
      const bobUser = user("bob");
      const bob = await rawApp(server, bobUser);
      const { callId } = await alice.command("startCall", { calleeUserId: bobUser });
      await waitUntil("Bob rings", () => bob.events.some((e) => e.kind === "incomingCall"));
      assert.equal((await bob.command("accept", "accept", { callId })).code, undefined);
      await alice.next("callAccepted");

      bob.pause();
      // Far more than flow-control windows and socket buffers hold, so the server's queue fills.
      const count = 4 * maxQueuedEvents;
      const noise = Array.from({ length: count }, () => randomBytes(7_500).toString("base64"));
      const sdp = (i: number) => `v=0 offer ${i}\r\n${noise[i]}`;
      for (let i = 0; i < count; i++) await alice.command("description", { callId, type: SdpType.OFFER, sdp: sdp(i) });
      bob.resume();
      await waitUntil("Bob's stream ended", () => bob.ended() !== undefined, 30_000);
      assert.equal(bob.ended()?.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(bob.ended()?.details ?? "", /client is not reading its stream; resume to catch up/);
      const offers = bob.events.filter((e) => e.kind === "description").map((e) => String(e.value.sdp));
      assert.ok(offers.length < count, `the stream was cut before all ${count} offers (got ${offers.length})`);
      assert.deepEqual(
        offers,
        Array.from({ length: offers.length }, (_, i) => sdp(i)),
      );
      bob.close();

      const ready = bob.events.find((e) => e.kind === "sessionReady")?.value as { resumeToken: string };
      const lastSeq = Math.max(...bob.events.map((e) => e.seq));
      const resumed = await rawApp(server, bobUser, { resumeToken: ready.resumeToken, lastSeq });
      const missed = () => resumed.events.filter((e) => e.kind === "description").map((e) => String(e.value.sdp));
      await waitUntil("the resumed stream replayed every offer", () => missed().length >= count - offers.length);
      assert.equal(resumed.ended(), undefined, "the replay did not cut the resumed stream");
      assert.deepEqual(
        [...offers, ...missed()],
        Array.from({ length: count }, (_, i) => sdp(i)),
        "every offer once, in order, no gap",
      );
      const seqs = resumed.events.filter((e) => e.kind !== "sessionReady").map((e) => e.seq);
      assert.deepEqual(
        seqs,
        Array.from({ length: seqs.length }, (_, i) => lastSeq + 1 + i),
      );
      await alice.command("hangup", { callId });
      alice.drop();
      resumed.close();
    });
  });
}
