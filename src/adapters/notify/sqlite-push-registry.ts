import type { PushRegistration, PushRegistry, PushTarget } from "../../app/ports/push-registry.ts";
import { targetAddress } from "../../app/ports/push-registry.ts";
import { inTransaction, openNotifyDatabase } from "./sqlite-db.ts";

const schema = `
CREATE TABLE IF NOT EXISTS push_registrations (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  address TEXT NOT NULL UNIQUE,
  target TEXT NOT NULL,
  registered_at_ms INTEGER NOT NULL,
  PRIMARY KEY (user_id, device_id)
) STRICT;
`;

interface Row {
  user_id: string;
  device_id: string;
  target: string;
  registered_at_ms: number;
}

function toRegistration(row: Row): PushRegistration {
  return {
    userId: row.user_id,
    deviceId: row.device_id,
    target: JSON.parse(row.target) as PushTarget,
    registeredAtMs: row.registered_at_ms,
  };
}

/** Options of the embedded push registry. */
export interface SqlitePushRegistryOptions {
  /** SQLite file (may be shared with other embedded stores), or ":memory:". */
  readonly path: string;
}

/** The embedded PushRegistry on node:sqlite; registrations survive restarts. */
export function createSqlitePushRegistry(options: SqlitePushRegistryOptions): PushRegistry {
  const db = openNotifyDatabase(options.path);
  db.exec(schema);
  const dropAddressElsewhere = db.prepare(
    "DELETE FROM push_registrations WHERE address = ? AND NOT (user_id = ? AND device_id = ?)",
  );
  const upsert = db.prepare(`
    INSERT INTO push_registrations (user_id, device_id, address, target, registered_at_ms) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (user_id, device_id) DO UPDATE SET
      address = excluded.address, target = excluded.target, registered_at_ms = excluded.registered_at_ms`);
  const remove = db.prepare("DELETE FROM push_registrations WHERE user_id = ? AND device_id = ?");
  const removeIfAddress = db.prepare(
    "DELETE FROM push_registrations WHERE user_id = ? AND device_id = ? AND address = ?",
  );
  const selectOne = db.prepare("SELECT * FROM push_registrations WHERE user_id = ? AND device_id = ?");
  const selectUser = db.prepare(
    "SELECT * FROM push_registrations WHERE user_id = ? ORDER BY registered_at_ms, device_id",
  );

  return {
    async register(r) {
      const address = targetAddress(r.target);
      inTransaction(db, () => {
        dropAddressElsewhere.run(address, r.userId, r.deviceId);
        upsert.run(r.userId, r.deviceId, address, JSON.stringify(r.target), r.registeredAtMs);
      });
    },
    async unregister(userId, deviceId) {
      return Number(remove.run(userId, deviceId).changes) > 0;
    },
    async removeGone(userId, deviceId, address) {
      return Number(removeIfAddress.run(userId, deviceId, address).changes) > 0;
    },
    async get(userId, deviceId) {
      const row = selectOne.get(userId, deviceId) as Row | undefined;
      return row && toRegistration(row);
    },
    async list(userId) {
      return (selectUser.all(userId) as unknown as Row[]).map(toRegistration);
    },
    async close() {
      if (db.isOpen) db.close();
    },
  };
}
