/** The embedded BlockList on node:sqlite (the store's file); entries survive restarts. */
import type { BlockedUser, BlockList } from "../../app/ports/block-list.ts";
import { openNotifyDatabase } from "../notify/sqlite-db.ts";

const schema = `
CREATE TABLE IF NOT EXISTS blocked_users (
  user_id TEXT NOT NULL,
  blocked_user_id TEXT NOT NULL,
  blocked_at_ms INTEGER NOT NULL,
  PRIMARY KEY (user_id, blocked_user_id)
) STRICT;
`;

interface Row {
  blocked_user_id: string;
  blocked_at_ms: number;
}

const toEntry = (r: Row): BlockedUser => ({ userId: r.blocked_user_id, blockedAtMs: r.blocked_at_ms });

/** Opens the block list in the SQLite file at `path` (or ":memory:"). */
export function createSqliteBlockList(path: string): BlockList {
  const db = openNotifyDatabase(path);
  db.exec(schema);
  const insert = db.prepare(
    "INSERT INTO blocked_users (user_id, blocked_user_id, blocked_at_ms) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
  );
  const one = db.prepare("SELECT * FROM blocked_users WHERE user_id = ? AND blocked_user_id = ?");
  const all = db.prepare("SELECT * FROM blocked_users WHERE user_id = ? ORDER BY blocked_at_ms DESC, blocked_user_id");
  const remove = db.prepare("DELETE FROM blocked_users WHERE user_id = ? AND blocked_user_id = ?");
  return {
    async block(userId, blockedUserId, atMs) {
      insert.run(userId, blockedUserId, atMs);
      return toEntry(one.get(userId, blockedUserId) as unknown as Row);
    },
    async unblock(userId, blockedUserId) {
      return Number(remove.run(userId, blockedUserId).changes) > 0;
    },
    async list(userId) {
      return (all.all(userId) as unknown as Row[]).map(toEntry);
    },
    async isBlocked(userId, otherUserId) {
      return one.get(userId, otherUserId) !== undefined;
    },
    async close() {
      if (db.isOpen) db.close();
    },
  };
}
