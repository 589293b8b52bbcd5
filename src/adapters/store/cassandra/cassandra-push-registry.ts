/**
 * The push registry on Apache Cassandra (tables push_devices and push_addresses, schema.ts),
 * so that every node of a cluster sees every device's push target (docs/spec.md §8): the node
 * that runs a call is rarely the one the callee's phone registered through.
 *
 * push_devices is the registry, one partition per user. push_addresses names the device holding
 * each target address, so registering an address another device holds moves it (a phone handed
 * to another account stops getting the first account's calls). Plain writes, no lightweight
 * transactions: registrations are rare and made by the user's own devices, and the check in
 * `removeGone` (delete only while the device still points at the gone address) is a read before
 * the delete, so a registration racing it within milliseconds can be dropped; the device
 * registers again on its next start, as apps do.
 */
import type cassandra from "cassandra-driver";
import {
  type PushRegistration,
  type PushRegistry,
  type PushTarget,
  targetAddress,
} from "../../../app/ports/push-registry.ts";
import { type CassandraConfig, createCassandraClient } from "./cassandra-config.ts";
import { guarded } from "./driver-errors.ts";
import { checkSchema } from "./migrate.ts";

const q = {
  device:
    "SELECT user_id, device_id, address, target, registered_at_ms FROM push_devices WHERE user_id = ? AND device_id = ?",
  devices: "SELECT user_id, device_id, address, target, registered_at_ms FROM push_devices WHERE user_id = ?",
  holder: "SELECT user_id, device_id FROM push_addresses WHERE address = ?",
  insertDevice:
    "INSERT INTO push_devices (user_id, device_id, address, target, registered_at_ms) VALUES (?, ?, ?, ?, ?)",
  insertAddress: "INSERT INTO push_addresses (address, user_id, device_id) VALUES (?, ?, ?)",
  deleteDevice: "DELETE FROM push_devices WHERE user_id = ? AND device_id = ?",
  deleteAddress: "DELETE FROM push_addresses WHERE address = ?",
};

interface Row {
  readonly user_id: string;
  readonly device_id: string;
  readonly address: string;
  readonly target: string;
  readonly registered_at_ms: cassandra.types.Long;
}

function toRegistration(r: Row): PushRegistration {
  return {
    userId: r.user_id,
    deviceId: r.device_id,
    target: JSON.parse(r.target) as PushTarget,
    registeredAtMs: r.registered_at_ms.toNumber(),
  };
}

/**
 * A Cassandra push registry over `config.keyspace` (which `npm run migrate` created). Pass
 * `client` to share one driver client (it is then not shut down by `close`).
 */
export function createCassandraPushRegistry(config: CassandraConfig, client?: cassandra.Client): PushRegistry {
  const db = client ?? createCassandraClient(config, config.keyspace);
  const options = { prepare: true, isIdempotent: true };
  let schemaChecked = false;

  async function exec(query: string, params: unknown[]): Promise<cassandra.types.ResultSet> {
    if (!schemaChecked) {
      await checkSchema(db, config.keyspace);
      schemaChecked = true;
    }
    return db.execute(query, params, options);
  }

  async function device(userId: string, deviceId: string): Promise<Row | undefined> {
    return ((await exec(q.device, [userId, deviceId])).first() as unknown as Row | null) ?? undefined;
  }

  /** Deletes the device's row and, while it holds it, its address's row. */
  async function drop(row: Row): Promise<void> {
    await exec(q.deleteDevice, [row.user_id, row.device_id]);
    const holder = (await exec(q.holder, [row.address])).first();
    if (holder?.user_id === row.user_id && holder?.device_id === row.device_id) {
      await exec(q.deleteAddress, [row.address]);
    }
  }

  const run = <T>(what: string, op: () => Promise<T>) => guarded(what, op, "push registry");

  return {
    register: (r) =>
      run("register", async () => {
        const address = targetAddress(r.target);
        const holder = (await exec(q.holder, [address])).first();
        if (holder && !(holder.user_id === r.userId && holder.device_id === r.deviceId)) {
          const other = await device(holder.user_id, holder.device_id);
          if (other?.address === address) await exec(q.deleteDevice, [other.user_id, other.device_id]);
        }
        const previous = await device(r.userId, r.deviceId);
        await exec(q.insertDevice, [r.userId, r.deviceId, address, JSON.stringify(r.target), r.registeredAtMs]);
        await exec(q.insertAddress, [address, r.userId, r.deviceId]);
        if (previous && previous.address !== address) {
          const old = (await exec(q.holder, [previous.address])).first();
          if (old?.user_id === r.userId && old?.device_id === r.deviceId) {
            await exec(q.deleteAddress, [previous.address]);
          }
        }
      }),
    unregister: (userId, deviceId) =>
      run("unregister", async () => {
        const row = await device(userId, deviceId);
        if (!row) return false;
        await drop(row);
        return true;
      }),
    removeGone: (userId, deviceId, address) =>
      run("removeGone", async () => {
        const row = await device(userId, deviceId);
        if (row?.address !== address) return false;
        await drop(row);
        return true;
      }),
    get: (userId, deviceId) =>
      run("get", async () => {
        const row = await device(userId, deviceId);
        return row && toRegistration(row);
      }),
    list: (userId) =>
      run("list", async () =>
        (await exec(q.devices, [userId])).rows
          .map((r) => toRegistration(r as unknown as Row))
          .sort((a, b) => a.registeredAtMs - b.registeredAtMs || (a.deviceId < b.deviceId ? -1 : 1)),
      ),
    async close() {
      if (!client) await db.shutdown();
    },
  };
}
