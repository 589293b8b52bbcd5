/**
 * Sharded presence (docs/cluster.md "Sharded presence") on two real etcd clusters: the shared
 * test etcd as shard 0 and a private one as shard 1 (private pairs for the outage test). Each
 * user's devices live in its shard only, on the node's lease there; node keys live in shard 0;
 * a dead node's devices go in every shard; one shard down leaves the other shard's users alone;
 * nodes with another shard count cannot join.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { BrokenCircuitError } from "cockatiel";
import { Etcd3, GRPCUnavailableError } from "etcd3";
import { pino } from "pino";
import { Registry } from "prom-client";
import { sharedEtcdEndpoint, startPrivateEtcd } from "../../../test/support/etcd-control.ts";
import { etcdCluster, trackUnhandledRejections } from "./etcd-presence.harness.ts";
import { createEtcdPresence } from "./etcd-presence.ts";
import { eventually, presenceContract } from "./presence.contract.ts";
import { userShard } from "./user-shard.ts";

const second = await startPrivateEtcd();
const endpoints = [sharedEtcdEndpoint(), second.endpoint];
after(() => second.destroy());

/** A user id (with `tag`) that hashes to `shard` of two. */
const userIn = (shard: number, tag: string) => {
  for (let i = 0; ; i++) if (userShard(`${tag}-${i}`, 2) === shard) return `${tag}-${i}`;
};
const nodeIds = (xs: readonly { nodeId: string }[]) => xs.map((x) => x.nodeId);
const unavailable = (e: unknown) => e instanceof GRPCUnavailableError || e instanceof BrokenCircuitError;

presenceContract("etcd, two shards", async () => etcdCluster(endpoints));

describe("etcd presence on two shards", () => {
  after(trackUnhandledRejections());
  const admins = endpoints.map((e) => new Etcd3({ hosts: `http://${e}` }));
  after(() => {
    for (const a of admins) a.close();
  });
  /** The key in shard `shard` with its lease, or undefined. */
  const keyIn = async (shard: number, key: string) =>
    (await admins[shard]?.kv.range({ key: Buffer.from(key) }))?.kvs[0];

  it("writes each user's devices to its shard only, on the node's lease there; node keys in shard 0", async () => {
    const cluster = etcdCluster(endpoints);
    try {
      const a = await cluster.startNode("node-a", "127.0.0.1:7001");
      const b = await cluster.startNode("node-b", "127.0.0.1:7002");
      const [u0, u1] = [userIn(0, "zero"), userIn(1, "one")];
      await a.announce({ userId: u0, deviceId: "d1", sessionId: "s1" });
      await a.announce({ userId: u1, deviceId: "d1", sessionId: "s2" });
      const device = (u: string) => `${cluster.keyPrefix}devices/${u}/d1`;
      const node = await keyIn(0, `${cluster.keyPrefix}nodes/node-a`);
      const d0 = await keyIn(0, device(u0));
      const d1 = await keyIn(1, device(u1));
      assert.ok(node && d0 && d1, "node key and u0 in shard 0, u1 in shard 1");
      assert.equal(await keyIn(1, device(u0)), undefined);
      assert.equal(await keyIn(0, device(u1)), undefined, "a single-cluster layout would put u1 here");
      assert.equal(await keyIn(1, `${cluster.keyPrefix}nodes/node-a`), undefined);
      assert.equal((await keyIn(0, `${cluster.keyPrefix}shards`))?.value.toString(), "2");
      // One lease per shard: shard 0's carries the node key and u0's device, shard 1's u1's device.
      assert.equal(d0.lease, node.lease);
      const inShard1 = await admins[1]?.leaseClient.leaseTimeToLive({ ID: d1.lease, keys: true });
      assert.deepEqual(
        inShard1?.keys.map((k) => k.toString()),
        [device(u1)],
      );
      assert.ok(Number(inShard1?.TTL) > 0);
      // Both are found from the other node, each read from its own shard.
      assert.deepEqual(nodeIds(await b.locate(u0)), ["node-a"]);
      assert.deepEqual(nodeIds(await b.locate(u1)), ["node-a"]);
      await a.withdraw(u1, "d1", "s2");
      await eventually(async () => assert.deepEqual(await b.locate(u1), []));
      assert.equal(await keyIn(1, device(u1)), undefined);
    } finally {
      await cluster.close();
    }
  });

  it("a killed node leaves once, and its devices are gone in every shard", async () => {
    const cluster = etcdCluster(endpoints, 2);
    const [u0, u1] = [userIn(0, "dies0"), userIn(1, "dies1")];
    const fixture = join(import.meta.dirname, "dying-node.fixture.ts");
    const args = [fixture, endpoints.join(","), cluster.keyPrefix, "node-a", "2", `${u0}/d1`, `${u1}/d1`];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    try {
      const b = await cluster.startNode("node-b", "127.0.0.1:7002");
      const left: string[] = [];
      let afterLeft: string[][] = [];
      b.onNodeLeft((id) => {
        left.push(id);
        // What the app sees on the turn after a departure (cluster-stack.ts): nothing on the dead node.
        setImmediate(async () => {
          afterLeft = [nodeIds(await b.locate(u0)), nodeIds(await b.locate(u1))];
        });
      });
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("ready") && resolve());
        child.once("exit", (code) => reject(new Error(`fixture exited early (${code})`)));
      });
      await eventually(async () => assert.deepEqual(nodeIds(await b.locate(u0)), ["node-a"]));
      assert.deepEqual(nodeIds(await b.locate(u1)), ["node-a"]);
      assert.ok(await keyIn(1, `${cluster.keyPrefix}devices/${u1}/d1`), "u1's device is in shard 1");
      child.kill("SIGKILL");
      await eventually(() => assert.deepEqual(left, ["node-a"]), 15_000);
      await eventually(() => assert.deepEqual(afterLeft, [[], []]));
      // Each shard's lease expires by itself: the keys go in both clusters.
      await eventually(async () => {
        assert.equal(await keyIn(0, `${cluster.keyPrefix}devices/${u0}/d1`), undefined);
        assert.equal(await keyIn(1, `${cluster.keyPrefix}devices/${u1}/d1`), undefined);
      }, 15_000);
      assert.deepEqual(left, ["node-a"], "seen leaving once, not once per shard");
    } finally {
      child.kill("SIGKILL");
      await cluster.close();
    }
  });

  it("refuses a node configured with another shard count while nodes run; accepts it once all stopped", async () => {
    const cluster = etcdCluster(endpoints);
    const join = (shards: string[][]) =>
      createEtcdPresence({
        nodeId: "node-c",
        address: "127.0.0.1:7003",
        shards,
        keyPrefix: cluster.keyPrefix,
        leaseTtlSeconds: 2,
        logger: pino({ level: "silent" }),
        registry: new Registry(),
      });
    try {
      await cluster.startNode("node-a", "127.0.0.1:7001");
      await assert.rejects(join([[endpoints[0] as string]]), /running nodes use 2 shard\(s\).*configured with 1/s);
      await cluster.close();
      const alone = await join([[endpoints[0] as string]]);
      assert.equal((await keyIn(0, `${cluster.keyPrefix}shards`))?.value.toString(), "1");
      await alone.close();
    } finally {
      await cluster.close();
    }
  });

  it("writes the shard count again when shard 0 lost it, as the running nodes re-register", async () => {
    const cluster = etcdCluster(endpoints, 2);
    try {
      const a = await cluster.startNode("node-a", "127.0.0.1:7001");
      const marker = `${cluster.keyPrefix}shards`;
      const node = await keyIn(0, `${cluster.keyPrefix}nodes/node-a`);
      assert.ok(node);
      await admins[0]?.delete().key(marker);
      await admins[0]?.leaseClient.leaseRevoke({ ID: node.lease });
      await eventually(async () => assert.equal((await keyIn(0, marker))?.value.toString(), "2"), 15_000);
      await eventually(async () => assert.deepEqual(nodeIds(await a.nodes()), ["node-a"]), 15_000);
    } finally {
      await cluster.close();
    }
  });
});

describe("etcd presence: one shard down", () => {
  after(trackUnhandledRejections());

  for (const down of [1, 0]) {
    it(`shard ${down} down: its uncached users fail, the other shard's users are found and announced`, async () => {
      const etcds = [await startPrivateEtcd(), await startPrivateEtcd()];
      const cluster = etcdCluster(etcds.map((e) => e.endpoint));
      const up = 1 - down;
      try {
        const a = await cluster.startNode("node-a", "127.0.0.1:7001");
        const b = await cluster.startNode("node-b", "127.0.0.1:7002");
        const [cachedDown, uncachedDown] = [userIn(down, "c"), userIn(down, "u")];
        const [uncachedUp, laterUp] = [userIn(up, "u"), userIn(up, "l")];
        for (const u of [cachedDown, uncachedDown, uncachedUp]) {
          await a.announce({ userId: u, deviceId: "d1", sessionId: `s-${u}` });
        }
        assert.deepEqual(nodeIds(await b.locate(cachedDown)), ["node-a"]);

        await etcds[down]?.stop({ kill: true });
        assert.deepEqual(nodeIds(await b.locate(uncachedUp)), ["node-a"], "read from the shard that is up");
        assert.deepEqual(nodeIds(await b.locate(cachedDown)), ["node-a"], "cached: no etcd needed");
        await assert.rejects(b.locate(uncachedDown), unavailable);
        await a.announce({ userId: laterUp, deviceId: "d1", sessionId: "s-later" });
        assert.deepEqual(nodeIds(await b.locate(laterUp)), ["node-a"]);
        const pending = a.announce({ userId: cachedDown, deviceId: "d2", sessionId: "s-d2" });

        await etcds[down]?.start();
        await pending;
        await eventually(async () => assert.deepEqual(nodeIds(await b.locate(uncachedDown)), ["node-a"]), 20_000);
        await eventually(async () => assert.equal((await b.locate(cachedDown)).length, 2), 20_000);
        assert.equal((await b.nodes()).length, 2, "nobody was declared dead");
      } finally {
        await cluster.close();
        for (const e of etcds) await e.destroy();
      }
    });
  }
});
