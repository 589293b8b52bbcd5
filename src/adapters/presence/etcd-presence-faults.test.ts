/**
 * Faults of the etcd presence adapter against real etcd processes: a node killed
 * without leaving (its lease expires), and etcd itself killed and restarted (private
 * etcd from test/support/etcd-control.ts, so other test files keep theirs).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { BrokenCircuitError } from "cockatiel";
import { GRPCUnavailableError } from "etcd3";
import { sharedEtcdEndpoint, startPrivateEtcd } from "../../../test/support/etcd-control.ts";
import { counter, etcdCluster, trackUnhandledRejections } from "./etcd-presence.harness.ts";
import { eventually } from "./presence.contract.ts";

const endpoint = sharedEtcdEndpoint();
const sorted = (xs: readonly { deviceId: string }[]) => xs.map((x) => x.deviceId).sort();

describe("etcd presence faults", () => {
  after(trackUnhandledRejections());

  it("drops a killed node's devices once its lease expires, and tells the other nodes it left", async () => {
    const cluster = etcdCluster(endpoint, 2);
    const fixture = join(import.meta.dirname, "dying-node.fixture.ts");
    const args = [fixture, endpoint, cluster.keyPrefix, "node-a", "2", "u1/d1", "u2/d1"];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    try {
      const b = await cluster.startNode("node-b", "127.0.0.1:7002");
      const left: string[] = [];
      b.onNodeLeft((id) => left.push(id));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("ready") && resolve());
        child.once("exit", (code) => reject(new Error(`fixture exited early (${code})`)));
      });
      await eventually(async () => assert.deepEqual(sorted(await b.locate("u1")), ["d1"]));
      assert.deepEqual((await b.locate("u2"))[0]?.nodeId, "node-a");
      child.kill("SIGKILL"); // no revoke, no goodbye: only the lease TTL removes it
      await eventually(() => assert.deepEqual(left, ["node-a"]), 15_000);
      assert.deepEqual(await b.locate("u1"), []);
      assert.deepEqual(await b.locate("u2"), []);
      assert.deepEqual(
        (await b.nodes()).map((n) => n.nodeId),
        ["node-b"],
      );
    } finally {
      child.kill("SIGKILL");
      await cluster.close();
    }
  });

  it("answers cached lookups while etcd is down and recovers everything after a restart", async () => {
    const etcd = await startPrivateEtcd();
    const cluster = etcdCluster(etcd.endpoint, 2);
    try {
      const a = await cluster.startNode("node-a", "127.0.0.1:7001");
      const b = await cluster.startNode("node-b", "127.0.0.1:7002");
      let leaseLost = 0;
      a.onLeaseLost(() => leaseLost++);
      await a.announce({ userId: "u1", deviceId: "d1", sessionId: "s1" });
      await eventually(async () => assert.deepEqual(sorted(await b.locate("u1")), ["d1"]));

      await etcd.stop({ kill: true });
      // Cached lookups need no etcd at all; a user never looked up does.
      assert.deepEqual(
        (await b.locate("u1")).map((l) => l.nodeId),
        ["node-a"],
      );
      // etcd's own unavailable error (or the open breaker after it), which the router reports as `unavailable`.
      await assert.rejects(
        b.locate("never-looked-up"),
        (e: unknown) => e instanceof GRPCUnavailableError || e instanceof BrokenCircuitError,
      );
      // A write during the outage is kept and lands once etcd is back.
      const pending = a.announce({ userId: "u1", deviceId: "d2", sessionId: "s2" });
      // Stay down until node-a's client gives its lease up (no keepalive for 2 × TTL).
      const aMetrics = cluster.registries.get("node-a");
      await eventually(async () => {
        assert.ok((await counter(aMetrics, "calldrop_presence_etcd_errors_total", { operation: "lease" })) >= 1);
      }, 20_000);
      await eventually(() => assert.equal(leaseLost, 1, "node-a was told its own lease lapsed"), 20_000);

      await etcd.start();
      await pending;
      await eventually(async () => assert.deepEqual(sorted(await b.locate("u1")), ["d1", "d2"]), 20_000);
      await eventually(async () => assert.equal((await b.nodes()).length, 2), 20_000);
      assert.ok((await counter(aMetrics, "calldrop_presence_lease_grants_total")) >= 2, "node-a re-granted its lease");
      // The service goes on: new announcements and withdrawals propagate both ways.
      await b.announce({ userId: "u3", deviceId: "d1", sessionId: "s3" });
      await eventually(async () =>
        assert.deepEqual(
          (await a.locate("u3")).map((l) => l.nodeId),
          ["node-b"],
        ),
      );
      await a.withdraw("u1", "d1", "s1");
      await eventually(async () => assert.deepEqual(sorted(await b.locate("u1")), ["d2"]));
    } finally {
      await cluster.close();
      await etcd.destroy();
    }
  });
});
