/**
 * Users' block lists on Apache Cassandra (table blocked_users, schema.ts), one partition per
 * user, so every node of a cluster sees them when it starts a call. Blocking inserts with
 * `IF NOT EXISTS` (a lightweight transaction: rare, and it keeps the first entry).
 */
import type cassandra from "cassandra-driver";
import type { BlockedUser, BlockList } from "../../../app/ports/block-list.ts";
import { type CassandraConfig, createCassandraClient } from "./cassandra-config.ts";
import { guarded } from "./driver-errors.ts";
import { checkSchema } from "./migrate.ts";

const q = {
  insert: "INSERT INTO blocked_users (user_id, blocked_user_id, blocked_at_ms) VALUES (?, ?, ?) IF NOT EXISTS",
  one: "SELECT blocked_user_id FROM blocked_users WHERE user_id = ? AND blocked_user_id = ?",
  all: "SELECT blocked_user_id, blocked_at_ms FROM blocked_users WHERE user_id = ?",
  remove: "DELETE FROM blocked_users WHERE user_id = ? AND blocked_user_id = ? IF EXISTS",
};

const toEntry = (r: cassandra.types.Row): BlockedUser => ({
  userId: String(r.blocked_user_id),
  blockedAtMs: (r.blocked_at_ms as cassandra.types.Long).toNumber(),
});

/**
 * A Cassandra block list over `config.keyspace` (which `npm run migrate` created). Pass `client`
 * to share one driver client (it is then not shut down by `close`).
 */
export function createCassandraBlockList(config: CassandraConfig, client?: cassandra.Client): BlockList {
  const db = client ?? createCassandraClient(config, config.keyspace);
  let schemaChecked = false;

  async function exec(query: string, params: unknown[], idempotent = true): Promise<cassandra.types.ResultSet> {
    if (!schemaChecked) {
      await checkSchema(db, config.keyspace);
      schemaChecked = true;
    }
    return db.execute(query, params, { prepare: true, isIdempotent: idempotent });
  }

  const run = <T>(what: string, op: () => Promise<T>) => guarded(what, op, "block list");

  return {
    block: (userId, blockedUserId, atMs) =>
      run("block", async () => {
        const rs = await exec(q.insert, [userId, blockedUserId, atMs], false);
        // Not applied: the entry exists, and the answer carries it.
        const row = rs.first();
        return rs.wasApplied() ? { userId: blockedUserId, blockedAtMs: atMs } : toEntry(row);
      }),
    unblock: (userId, blockedUserId) =>
      run("unblock", async () => (await exec(q.remove, [userId, blockedUserId], false)).wasApplied()),
    list: (userId) =>
      run("list", async () =>
        (await exec(q.all, [userId])).rows
          .map(toEntry)
          .sort((a, b) => b.blockedAtMs - a.blockedAtMs || (a.userId < b.userId ? -1 : 1)),
      ),
    isBlocked: (userId, otherUserId) =>
      run("isBlocked", async () => (await exec(q.one, [userId, otherUserId])).rowLength > 0),
    async close() {
      if (!client) await db.shutdown();
    },
  };
}
