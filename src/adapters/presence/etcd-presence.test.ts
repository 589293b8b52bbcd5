/**
 * The Presence contract against a real etcd (CALLDROP_TEST_ETCD, started by `npm test`),
 * each test under its own key prefix, plus etcd-only behaviour: cache hits cost no
 * request, a presence change reaches only the nodes holding that user, a revoked lease
 * is replaced and the node re-announced.
 * Fault tests (node death, etcd restart) live in etcd-presence-faults.test.ts.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Etcd3 } from "etcd3";
import { sharedEtcdEndpoint } from "../../../test/support/etcd-control.ts";
import { counter, etcdCluster, trackUnhandledRejections } from "./etcd-presence.harness.ts";
import { eventually, presenceContract } from "./presence.contract.ts";

const endpoint = sharedEtcdEndpoint();

presenceContract("etcd", async () => etcdCluster(endpoint));

describe("etcd presence", () => {
  after(trackUnhandledRejections());

  it("serves repeated lookups from the watched cache without any etcd request", async () => {
    const cluster = etcdCluster(endpoint);
    try {
      const a = await cluster.startNode("node-a", "127.0.0.1:7001");
      const b = await cluster.startNode("node-b", "127.0.0.1:7002");
      const metrics = cluster.registries.get("node-b");
      await a.announce({ userId: "u1", deviceId: "d1", sessionId: "s1" });
      assert.equal((await b.locate("u1")).length, 1); // the first lookup reads etcd
      const requests = await counter(metrics, "calldrop_presence_etcd_requests_total", { operation: "read" });
      for (let i = 0; i < 100; i++) assert.equal((await b.locate("u1"))[0]?.nodeId, "node-a");
      assert.equal(await counter(metrics, "calldrop_presence_etcd_requests_total", { operation: "read" }), requests);
      assert.equal(await counter(metrics, "calldrop_presence_lookups_total", { result: "hit" }), 100);
      // …and the cache still follows changes, through the watch alone.
      await a.announce({ userId: "u1", deviceId: "d2", sessionId: "s2" });
      await eventually(async () => assert.equal((await b.locate("u1")).length, 2));
      assert.equal(await counter(metrics, "calldrop_presence_etcd_requests_total", { operation: "read" }), requests);
    } finally {
      await cluster.close();
    }
  });

  it("sends a device change only to the nodes that looked its user up, not to every node", async () => {
    const cluster = etcdCluster(endpoint);
    try {
      const [a, b, c, d] = await Promise.all(
        ["node-a", "node-b", "node-c", "node-d"].map((id, i) => cluster.startNode(id, `127.0.0.1:${7001 + i}`)),
      );
      assert.ok(a && b && c && d);
      const received = (nodeId: string) =>
        counter(cluster.registries.get(nodeId), "calldrop_presence_device_events_total");
      // Churn of a user nobody looked up reaches no other node.
      for (let i = 0; i < 10; i++) await a.announce({ userId: "churner", deviceId: "d1", sessionId: `s${i}` });
      await a.withdraw("churner", "d1", "s9");
      // A user that node-b (only) looked up is followed by node-b (only).
      assert.deepEqual(await b.locate("callee"), []);
      await a.announce({ userId: "callee", deviceId: "d1", sessionId: "s1" });
      await a.announce({ userId: "callee", deviceId: "d2", sessionId: "s2" });
      await eventually(async () => assert.equal((await b.locate("callee")).length, 2));
      await a.withdraw("callee", "d1", "s1");
      await eventually(async () =>
        assert.deepEqual(
          (await b.locate("callee")).map((l) => l.deviceId),
          ["d2"],
        ),
      );
      assert.equal(await received("node-b"), 3);
      // A read of node-c after the changes costs one etcd read and no events at all.
      assert.deepEqual((await c.locate("churner")).length, 0);
      assert.equal(await received("node-c"), 0);
      assert.equal(await received("node-d"), 0);
      assert.equal(await received("node-a"), 0, "its own writes go straight into its cache");
    } finally {
      await cluster.close();
    }
  });

  it("re-announces the node and its devices when its lease is revoked behind its back", async () => {
    const cluster = etcdCluster(endpoint, 2);
    const admin = new Etcd3({ hosts: `http://${endpoint}` });
    try {
      const a = await cluster.startNode("node-a", "127.0.0.1:7001");
      const b = await cluster.startNode("node-b", "127.0.0.1:7002");
      const left: string[] = [];
      b.onNodeLeft((id) => left.push(id));
      await a.announce({ userId: "u1", deviceId: "d1", sessionId: "s1" });
      await eventually(async () => assert.equal((await b.locate("u1")).length, 1));
      const nodeKey = Buffer.from(`${cluster.keyPrefix}nodes/node-a`);
      const [kv] = (await admin.kv.range({ key: nodeKey })).kvs;
      assert.ok(kv && kv.lease !== "0");
      await admin.leaseClient.leaseRevoke({ ID: kv.lease });
      await eventually(() => assert.deepEqual(left, ["node-a"]));
      // node-a learns of the loss at its next keepalive and comes back on a new lease.
      await eventually(async () => assert.equal((await b.nodes()).length, 2));
      await eventually(async () => assert.deepEqual(await b.locate("u1"), await a.locate("u1")));
      assert.equal((await b.locate("u1")).length, 1);
      assert.equal(await counter(cluster.registries.get("node-a"), "calldrop_presence_lease_grants_total"), 2);
      const [again] = (await admin.kv.range({ key: nodeKey })).kvs;
      assert.notEqual(again?.lease, kv.lease);
    } finally {
      admin.close();
      await cluster.close();
    }
  });

  it("does not take back a device that moved to another node while its lease was lost", async () => {
    const cluster = etcdCluster(endpoint, 2);
    const admin = new Etcd3({ hosts: `http://${endpoint}` });
    try {
      const a = await cluster.startNode("node-a", "127.0.0.1:7001");
      const b = await cluster.startNode("node-b", "127.0.0.1:7002");
      await a.announce({ userId: "u1", deviceId: "d1", sessionId: "s1" });
      const [kv] = (await admin.kv.range({ key: Buffer.from(`${cluster.keyPrefix}nodes/node-a`) })).kvs;
      assert.ok(kv);
      await admin.leaseClient.leaseRevoke({ ID: kv.lease });
      await b.announce({ userId: "u1", deviceId: "d1", sessionId: "s2" }); // the device reconnected to node-b
      await eventually(async () => {
        assert.equal(await counter(cluster.registries.get("node-a"), "calldrop_presence_lease_grants_total"), 2);
      });
      const moved = [{ userId: "u1", deviceId: "d1", nodeId: "node-b", sessionId: "s2" }];
      await eventually(async () => assert.deepEqual(await a.locate("u1"), moved));
      assert.deepEqual(await b.locate("u1"), moved);
    } finally {
      admin.close();
      await cluster.close();
    }
  });
});
