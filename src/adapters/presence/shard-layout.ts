/**
 * The shard count every node agrees on (docs/cluster.md "Sharded presence"). `<prefix>shards`
 * in shard 0 holds the number of presence shards; a node whose configured count differs
 * does not join while any node is registered, so a cluster never mixes two mappings of users
 * to shards. The count changes only while no node is registered (every node stopped): the
 * first node of the new layout rewrites it. The node key is written only while the marker
 * still holds this node's count (one transaction), so two nodes that start at once with
 * different counts cannot both join. A marker that vanished (shard 0 rebuilt) is written
 * again by the next node that registers.
 */
import type { Etcd3, ICompare, Lease } from "etcd3";
import type { Logger } from "pino";
import type { PresenceKeys } from "./etcd-keys.ts";
import { LeaseAbandoned } from "./lease-keeper.ts";
import type { PresenceMetrics } from "./presence-metrics.ts";

/** Options of `createShardLayout`. */
export interface ShardLayoutOptions {
  /** The client of shard 0. */
  readonly client: Etcd3;
  readonly keys: PresenceKeys;
  readonly shardCount: number;
  readonly nodeId: string;
  readonly address: string;
  readonly logger: Logger;
  readonly metrics: PresenceMetrics;
}

/** The shard-count check and the node registration it guards. */
export interface ShardLayout {
  /** Makes sure the cluster uses this node's shard count; rejects with a readable error when live nodes do not. */
  agree(): Promise<void>;
  /** Writes the node key on `lease` (of shard 0) while the cluster still uses this node's count. */
  register(lease: Lease): Promise<void>;
}

/** Creates the layout check of one node. */
export function createShardLayout(options: ShardLayoutOptions): ShardLayout {
  const { client, keys, shardCount, nodeId, address, logger, metrics } = options;
  const marker = Buffer.from(keys.shards);
  const want = Buffer.from(String(shardCount));
  const nodes = Buffer.from(keys.nodesPrefix);
  // Every key under ".../nodes/" sorts before ".../nodes0" ("0" follows "/").
  const nodesEnd = Buffer.from(keys.nodesPrefix.replace(/\/$/, "0"));
  const mismatch = (held: string) =>
    `presence shard count mismatch: the running nodes use ${held} (key ${keys.shards} in shard 0), this node ` +
    `is configured with ${shardCount}; every node must list the same cluster.presenceShards — stop every node ` +
    `to change the count (docs/cluster.md "Sharded presence")`;

  return {
    async agree() {
      for (let attempt = 0; attempt < 10; attempt++) {
        metrics.etcdRequests.inc({ operation: "read" }, 2);
        const [held, registered] = await Promise.all([
          client.kv.range({ key: marker }),
          client.kv.range({ key: nodes, range_end: nodesEnd, count_only: true }),
        ]);
        const kv = held.kvs[0];
        if (kv?.value.equals(want)) return;
        // No marker: a new cluster, or one from before sharding, which used one shard.
        const legacy = kv === undefined && shardCount === 1;
        if (!legacy && Number(registered.count) > 0) {
          throw new Error(mismatch(kv ? `${kv.value.toString()} shard(s)` : "1 shard (no marker yet)"));
        }
        const compare: ICompare[] = [
          { key: marker, target: "Mod", result: "Equal", mod_revision: kv?.mod_revision ?? 0 },
        ];
        if (!legacy)
          compare.push({ key: nodes, range_end: nodesEnd, target: "Create", result: "Equal", create_revision: 0 });
        metrics.etcdRequests.inc({ operation: "write" });
        const res = await client.kv.txn({ compare, success: [{ request_put: { key: marker, value: want } }] });
        if (res.succeeded) {
          logger.info({ from: kv?.value.toString(), to: shardCount }, "presence shard count set");
          return;
        }
        // A node registered or another changed the marker meanwhile: look again.
      }
      throw new Error(`presence shard count: ${keys.shards} kept changing; is another layout starting at once?`);
    },
    async register(lease) {
      const id = await lease.grant();
      const putNode = { request_put: { key: Buffer.from(keys.node(nodeId)), value: Buffer.from(address), lease: id } };
      for (let attempt = 0; attempt < 3; attempt++) {
        metrics.etcdRequests.inc({ operation: "write" });
        const res = await client.kv.txn({
          compare: [{ key: marker, target: "Value", result: "Equal", value: want }],
          success: [putNode],
          failure: [{ request_range: { key: marker } }],
        });
        if (res.succeeded) return;
        const held = res.responses[0]?.response_range?.kvs[0]?.value.toString();
        if (held !== undefined) throw new LeaseAbandoned(mismatch(`${held} shard(s)`));
        // No marker any more (shard 0 rebuilt, or restored from before it existed): the running nodes claim it again.
        metrics.etcdRequests.inc({ operation: "write" });
        const claimed = await client.kv.txn({
          compare: [{ key: marker, target: "Create", result: "Equal", create_revision: 0 }],
          success: [{ request_put: { key: marker, value: want } }, putNode],
        });
        if (claimed.succeeded) return;
      }
      throw new Error(`presence shard count: ${keys.shards} kept changing while registering`);
    },
  };
}
