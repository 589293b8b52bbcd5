/**
 * The caller's node dies (kill -9) in the last seconds of ringing (docs/cluster.md "When a node
 * dies"): the missed call is recorded at its ring deadline, not when the dead node's lease expires
 * (up to one lease TTL later). The survivor holds a relay stream from the dead node; when it breaks
 * it probes the dead node's port, which refuses, and rings the call out at its deadline. Two nodes
 * on the shared etcd with the default lease TTL (10 s) and a 2 s ring, so the lease cannot be what
 * ended the call: the missed call must reach the callee before the survivor sees the node leave.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { CallOutcome as Outcome } from "../gen/calldrop/v1/call_pb.js";
import { historyClient, mobileDevice } from "./support/devices.ts";
import { sharedEtcdEndpoint } from "./support/etcd-control.ts";
import { type ServerProcess, startServer } from "./support/server-process.ts";
import { waitFor } from "./support/wait-for.ts";

const dir = mkdtempSync(join(tmpdir(), "calldrop-ring-death-"));
const servers: ServerProcess[] = [];
after(async () => {
  for (const s of servers) await s.stop({ keepData: true });
  rmSync(dir, { recursive: true, force: true });
});

test("the caller's node dies while ringing: missed at the ring deadline, before its lease expires, once", async () => {
  const prefix = `/calldrop-ring-death-${randomBytes(4).toString("hex")}/`;
  const env = (node: string) => ({
    CALLDROP_CLUSTER__ETCD_ENDPOINTS: JSON.stringify([sharedEtcdEndpoint()]),
    CALLDROP_CLUSTER__KEY_PREFIX: prefix,
    CALLDROP_CLUSTER__RELAY_SECRET: "ring-death-relay-secret-0123456789",
    CALLDROP_CLUSTER__INTERNAL_PORT: "0",
    CALLDROP_CLUSTER__LEASE_TTL_S: "10",
    CALLDROP_CLUSTER__NODE_NAME: node,
    CALLDROP_CALLS__RING_TIMEOUT_MS: "2000",
  });
  const a = await startServer(env("node-a"), dir);
  servers.push(a);
  const b = await startServer(env("node-b"), dir);
  servers.push(b);
  const alice = await mobileDevice({
    baseUrl: a.baseUrl,
    token: await a.token("alice"),
    userId: "alice",
    deviceId: "p",
  });
  const bob = await mobileDevice({ baseUrl: b.baseUrl, token: await b.token("bob"), userId: "bob", deviceId: "p" });

  const { callId } = await alice.command("startCall", { calleeUserId: "bob" }); // runs on the caller's node, A
  await bob.next("incomingCall", (v) => v.callId === callId);
  await a.stop({ keepData: true, signal: "SIGKILL" });
  alice.drop();

  const ended = await bob.next("callEnded", (v) => v.callId === callId, 20_000);
  const leftBeforeEnd = b.logs.some((l) => l.msg === "node left the cluster");
  assert.equal(ended.value.outcome, Outcome.MISSED);
  assert.ok(!leftBeforeEnd, "rung out before node-b saw node-a's lease expire");
  await waitFor(
    () => b.logs.some((l) => l.msg === "rang out a call of a node that refuses connections" && l.callId === callId),
    { what: "node-b's log that it took the call over because node-a's port refused" },
  );
  await bob.next("missedCall", (v) => v.callId === callId);

  const history = historyClient(b.baseUrl, await b.token("bob"));
  const record = await waitFor(
    async () => {
      const call = await history.get(callId);
      return call.outcome !== Outcome.UNSPECIFIED && call;
    },
    { what: "an outcome in bob's record of the call" },
  );
  const ms = (t: { seconds: number; nanos: number }) => t.seconds * 1_000 + Math.round(t.nanos / 1e6);
  assert.equal(record.outcome, Outcome.MISSED);
  assert.equal(ms(record.endedAt) - ms(record.startedAt), 2_000, "ended at the ring deadline");
  // The lease expires later and node-b runs its takeover of node-a's calls: nothing is left to take.
  await waitFor(() => b.logs.some((l) => l.msg === "node left the cluster"), {
    what: "node-b seeing node-a's lease expire",
    timeoutMs: 20_000,
  });
  assert.equal(bob.events.filter((e) => e.case === "callEnded" && e.value.callId === callId).length, 1);
  assert.equal(
    b.logs.filter((l) => l.notification === "missed_call" && l.callId === callId).length,
    1,
    "one missed-call notification",
  );
  bob.drop();
});
