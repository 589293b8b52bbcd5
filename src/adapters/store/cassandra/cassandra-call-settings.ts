/**
 * Users' call settings on Apache Cassandra (table call_settings, schema.ts), one row per user, so
 * every node of a cluster sees them when a call reaches a user in a call. An update writes only the
 * columns it sets (a null column was never set).
 */
import type cassandra from "cassandra-driver";
import type { CallSettingsStore, StoredCallSettings } from "../../../app/ports/call-settings-store.ts";
import { type CassandraConfig, createCassandraClient } from "./cassandra-config.ts";
import { guarded } from "./driver-errors.ts";
import { checkSchema } from "./migrate.ts";

const q = {
  one: "SELECT call_waiting FROM call_settings WHERE user_id = ?",
  setWaiting: "UPDATE call_settings SET call_waiting = ? WHERE user_id = ?",
};

/**
 * Cassandra call settings over `config.keyspace` (which `npm run migrate` created). Pass `client`
 * to share one driver client (it is then not shut down by `close`).
 */
export function createCassandraCallSettings(config: CassandraConfig, client?: cassandra.Client): CallSettingsStore {
  const db = client ?? createCassandraClient(config, config.keyspace);
  let schemaChecked = false;

  async function exec(query: string, params: unknown[]): Promise<cassandra.types.ResultSet> {
    if (!schemaChecked) {
      await checkSchema(db, config.keyspace);
      schemaChecked = true;
    }
    return db.execute(query, params, { prepare: true, isIdempotent: true });
  }
  const run = <T>(what: string, op: () => Promise<T>) => guarded(what, op, "call settings");
  const get = async (userId: string): Promise<StoredCallSettings> => {
    const waiting = (await exec(q.one, [userId])).first()?.call_waiting as boolean | null | undefined;
    return waiting == null ? {} : { callWaiting: waiting };
  };

  return {
    get: (userId) => run("get", () => get(userId)),
    update: (userId, settings) =>
      run("update", async () => {
        if (settings.callWaiting !== undefined) await exec(q.setWaiting, [settings.callWaiting, userId]);
        return get(userId);
      }),
    async close() {
      if (!client) await db.shutdown();
    },
  };
}
