/** The embedded CallSettingsStore on node:sqlite (the store's file); settings survive restarts. */
import type { CallSettingsStore, StoredCallSettings } from "../../app/ports/call-settings-store.ts";
import { openNotifyDatabase } from "../notify/sqlite-db.ts";

const schema = `
CREATE TABLE IF NOT EXISTS call_settings (
  user_id TEXT PRIMARY KEY,
  call_waiting INTEGER
) STRICT;
`;

/** Opens the call settings in the SQLite file at `path` (or ":memory:"). */
export function createSqliteCallSettings(path: string): CallSettingsStore {
  const db = openNotifyDatabase(path);
  db.exec(schema);
  const one = db.prepare("SELECT call_waiting FROM call_settings WHERE user_id = ?");
  const upsert = db.prepare(
    `INSERT INTO call_settings (user_id, call_waiting) VALUES (?, ?)
     ON CONFLICT (user_id) DO UPDATE SET call_waiting = coalesce(excluded.call_waiting, call_waiting)`,
  );
  const get = (userId: string): StoredCallSettings => {
    const row = one.get(userId) as { call_waiting: number | null } | undefined;
    return row?.call_waiting == null ? {} : { callWaiting: row.call_waiting === 1 };
  };
  return {
    get: async (userId) => get(userId),
    async update(userId, settings) {
      const waiting = settings.callWaiting;
      upsert.run(userId, waiting === undefined ? null : waiting ? 1 : 0);
      return get(userId);
    },
    async close() {
      if (db.isOpen) db.close();
    },
  };
}
