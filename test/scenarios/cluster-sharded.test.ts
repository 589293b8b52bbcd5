/**
 * The scenario suite on three server processes with presence sharded over two etcd
 * clusters (docs/cluster.md "Sharded presence"; the call directory on the first), and a check
 * that the suite's users really were spread over both shards, each user in its own only.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { userShard } from "../../src/adapters/presence/user-shard.ts";
import { scenarios } from "./scenarios.ts";
import { type Topology, threeNodes } from "./topology.ts";

let topology: Topology | undefined;
scenarios(
  "scenarios: 3-node cluster, presence on two etcd clusters",
  async (env) => {
    topology = await threeNodes(env, { presenceShards: 2 });
    return topology;
  },
  { etcd: true },
);

test("the scenarios' users were spread over both presence shards, each user's devices in its shard only", () => {
  const seen = topology?.shardUsers?.();
  assert.ok(seen && seen.length === 2);
  seen.forEach((users, shard) => {
    assert.ok(users.size >= 3, `shard ${shard} held devices of ${users.size} users`);
    for (const user of users) assert.equal(userShard(user, 2), shard, `${user} written to shard ${shard}`);
  });
  console.log(`# users per presence shard: ${seen.map((users) => users.size).join(", ")}`);
});
