/**
 * Which presence shard holds a user's device keys (docs/spec.md §10, docs/cluster.md
 * "Sharded presence"): the first 4 bytes of SHA-256 over the user id's UTF-8 bytes, read
 * as an unsigned big-endian integer, modulo the number of shards. Stable across processes,
 * versions and languages; every node must use the same shard count (checked at startup,
 * shard-layout.ts), since changing it moves about (N-1)/N of the users.
 */
import { createHash } from "node:crypto";

/** The shard (0 ≤ result < shardCount) of `userId`. */
export function userShard(userId: string, shardCount: number): number {
  if (!Number.isInteger(shardCount) || shardCount < 1) throw new Error(`shard count must be ≥ 1: ${shardCount}`);
  if (shardCount === 1) return 0;
  return createHash("sha256").update(userId, "utf8").digest().readUInt32BE(0) % shardCount;
}
