/** The user → shard hash (docs/cluster.md "Sharded presence"): fixed, and spread evenly. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { userShard } from "./user-shard.ts";

describe("userShard", () => {
  it("is the documented hash: SHA-256, first 4 bytes big-endian, modulo the shard count", () => {
    // Fixed values: a change of the hash would move users between shards across a rolling update.
    assert.deepEqual(
      ["alice", "bob", "carol", "dave", "ünïcødé"].map((u) => [2, 3, 7].map((n) => userShard(u, n))),
      [
        [1, 1, 0],
        [0, 0, 5],
        [1, 2, 5],
        [1, 0, 5],
        [1, 0, 4],
      ],
    );
  });

  it("puts everyone in shard 0 when there is one shard", () => {
    for (const u of ["a", "b", "c"]) assert.equal(userShard(u, 1), 0);
  });

  it("spreads users evenly over the shards", () => {
    for (const n of [2, 3]) {
      const counts = new Array<number>(n).fill(0);
      for (let i = 0; i < 30_000; i++) {
        const shard = userShard(`user-${i}`, n);
        counts[shard] = (counts[shard] ?? 0) + 1;
      }
      for (const c of counts) assert.ok(Math.abs(c - 30_000 / n) < 30_000 / n / 20, `${counts} within 5%`);
    }
  });

  it("refuses a shard count that is not a positive integer", () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => userShard("a", bad), /shard count must be ≥ 1/);
  });
});
