/**
 * The node-to-node relay secret rotates while a call crosses nodes (docs/key-rotation.md):
 * three server processes on one etcd are restarted one at a time (SIGTERM drain, then a new
 * process with the next secret list) through the three phases of the runbook — accept the
 * new secret, sign with it, forget the old one. The devices on a node about to restart resume on
 * another node, the two sides of the call always on different nodes, and after every restart
 * the call still signals both ways; no relay stream is ever refused.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type Device, mobileDevice } from "./support/devices.ts";
import { sharedEtcdEndpoint } from "./support/etcd-control.ts";
import { type ServerProcess, startServer } from "./support/server-process.ts";

const OLD = "relay-secret-old-0123456789abcdef";
const NEW = "relay-secret-new-fedcba9876543210";
const Outcome = { COMPLETED: 1 };

/** Which secret a node signs its streams with and which others it also accepts. */
interface RelaySecrets {
  readonly sign: string;
  readonly accept: readonly string[];
}

const dir = mkdtempSync(join(tmpdir(), "calldrop-relay-rotation-"));
const clusterEnv = {
  CALLDROP_CLUSTER__ETCD_ENDPOINTS: JSON.stringify([sharedEtcdEndpoint()]),
  // Its own key prefix: the shared etcd serves other test files at the same time.
  CALLDROP_CLUSTER__KEY_PREFIX: `/relay-rotation-${process.pid}-${Date.now()}/`,
  CALLDROP_CLUSTER__INTERNAL_PORT: "0",
  CALLDROP_CLUSTER__LEASE_TTL_S: "2",
};
const servers: ServerProcess[] = [];
const retired: ServerProcess[] = [];

const launch = (i: number, secrets: RelaySecrets) =>
  startServer(
    {
      ...clusterEnv,
      CALLDROP_CLUSTER__NODE_NAME: `node${i}`,
      CALLDROP_CLUSTER__RELAY_SECRET: secrets.sign,
      CALLDROP_CLUSTER__RELAY_ACCEPTED_SECRETS: JSON.stringify(secrets.accept),
    },
    dir,
  );

before(async () => {
  for (let i = 0; i < 3; i++) servers.push(await launch(i, { sign: OLD, accept: [] }));
});

after(async () => {
  for (const s of servers) await s.stop({ keepData: true });
  rmSync(dir, { recursive: true, force: true });
});

const candidate = (tag: string) => ({ candidate: `candidate:${tag} 1 udp 1 127.0.0.1 9 typ host`, sdpMid: "0" });
const tagOf = (e: { value: { candidate: string } }) => e.value.candidate.split(" ")[0]?.slice("candidate:".length);

/** One device of the call and the node it is connected to. */
interface Side {
  device: Device;
  node: number;
}

test("the relay secret rotates node by node while a call crosses nodes: nothing refused, nothing lost", async () => {
  const open = async (node: number, userId: string, extra: object = {}) =>
    mobileDevice({
      baseUrl: (servers[node] as ServerProcess).baseUrl,
      token: await (servers[node] as ServerProcess).token(userId),
      userId,
      deviceId: "phone",
      ...extra,
    });
  const alice: Side = { device: await open(0, "alice"), node: 0 };
  const bob: Side = { device: await open(1, "bob"), node: 1 };
  const { callId } = await alice.device.command("startCall", { calleeUserId: "bob", video: true });
  await bob.device.next("incomingCall", (v) => v.callId === callId);
  await bob.device.command("accept", { callId });
  await alice.device.next("callAccepted", (v) => v.callId === callId);
  // Media is up (else the call would end at the setup timeout while the nodes restart).
  await alice.device.command("mediaState", { callId, state: 1, path: 1, setupMs: 300 });

  /** One candidate each way between the two nodes the sides are on. */
  const signals = async (tag: string) => {
    assert.notEqual(alice.node, bob.node, "the call crosses nodes");
    await alice.device.command("iceCandidate", { callId, ...candidate(`${tag}-a`) });
    assert.equal(tagOf(await bob.device.next("iceCandidate")), `${tag}-a`, `bob hears alice (${tag})`);
    await bob.device.command("iceCandidate", { callId, ...candidate(`${tag}-b`) });
    assert.equal(tagOf(await alice.device.next("iceCandidate")), `${tag}-b`, `alice hears bob (${tag})`);
  };

  /**
   * Node `i` restarts with `secrets`. A side on it first moves to a node the other side is not
   * on (as an app reconnecting elsewhere), then the node drains and a new process starts.
   */
  const restart = async (i: number, secrets: RelaySecrets) => {
    for (const [side, other] of [
      [alice, bob],
      [bob, alice],
    ] as const) {
      if (side.node !== i) continue;
      const target = [0, 1, 2].find((n) => n !== i && n !== other.node) as number;
      // A fresh session (a resume token names the node that first issued it, so a session that
      // moved once cannot be resumed again once that node is gone): the device re-learns its call.
      // As apps do, the signaling memory carries over, so signals resent after a resync are dropped as repeats.
      side.device.drop();
      const resumed = await open(target, side.device.userId, { memory: side.device.memory });
      await resumed.next("callAccepted", (v) => v.callId === callId);
      side.device = resumed;
      side.node = target;
    }
    await (servers[i] as ServerProcess).stop({ keepData: true, signal: "SIGTERM" });
    retired.push(servers[i] as ServerProcess);
    servers[i] = await launch(i, secrets);
  };

  await signals("start");
  const phases: [string, RelaySecrets][] = [
    ["accept the new secret", { sign: OLD, accept: [NEW] }],
    ["sign with the new secret", { sign: NEW, accept: [OLD] }],
    ["forget the old secret", { sign: NEW, accept: [] }],
  ];
  for (const [p, [phase, secrets]] of phases.entries()) {
    for (const i of [2, 0, 1]) {
      await restart(i, secrets);
      await signals(`phase${p + 1}-node${i}`).catch((err: unknown) => {
        throw new Error(`${phase}: after node${i} restarted the call no longer signals`, { cause: err });
      });
    }
  }

  await bob.device.command("hangup", { callId });
  assert.equal((await alice.device.next("callEnded")).value.outcome, Outcome.COMPLETED);
  const logs = [...retired, ...servers].flatMap((s) => s.logs);
  const refused = logs.filter((l) => l.msg === "relay stream refused: not authenticated");
  assert.deepEqual(refused, [], "no relay stream was refused during the rotation");
  alice.device.drop();
  bob.device.drop();
});
