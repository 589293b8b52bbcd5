/**
 * Applies the schema migrations (schema.ts) to a keyspace, creating the keyspace with the
 * given replication when missing, and checks a keyspace's version at store startup.
 */
import type cassandra from "cassandra-driver";
import { DomainError } from "../../../domain/errors.ts";
import { isTransient } from "./driver-errors.ts";
import { migrations, schemaVersion } from "./schema.ts";

/** Keyspace replication, e.g. { class: "NetworkTopologyStrategy", dc1: 3, dc2: 3 }. */
export type Replication = Readonly<Record<string, string | number>>;

const identifier = /^[a-z][a-z0-9_]{0,47}$/;

/** Client-side timeout of schema statements (CREATE/DROP/TRUNCATE), as Cassandra's own truncate timeout. */
export const ddlTimeoutMs = 60_000;

/** Rejects keyspace names that would need quoting (they go into CQL text). */
export function checkKeyspaceName(keyspace: string): string {
  if (!identifier.test(keyspace)) throw new Error(`invalid keyspace name ${JSON.stringify(keyspace)}`);
  return keyspace;
}

/**
 * Creates `keyspace` if missing and applies every migration it lacks, in order; returns the
 * versions applied. `client` must not be bound to the keyspace (it may not exist yet).
 */
export async function migrate(
  client: cassandra.Client,
  keyspace: string,
  replication: Replication,
  log: (line: string) => void = () => {},
): Promise<number[]> {
  const ks = checkKeyspaceName(keyspace);
  // Schema changes wait for every node to agree: far slower than a write, so no request timeout.
  const options = { prepare: false, readTimeout: ddlTimeoutMs };
  await client.execute(
    `CREATE KEYSPACE IF NOT EXISTS ${ks} WITH replication = ${cqlMap(replication)} AND durable_writes = true`,
    [],
    options,
  );
  await client.execute(
    `CREATE TABLE IF NOT EXISTS ${ks}.schema_migrations (version int PRIMARY KEY, description text, applied_at timestamp)`,
    [],
    options,
  );
  const done = await appliedVersions(client, ks);
  const applied: number[] = [];
  for (const m of migrations) {
    if (done.has(m.version)) continue;
    log(`applying ${ks} v${m.version}: ${m.description}`);
    for (const statement of m.statements) {
      await client.execute(qualify(statement, ks), [], options);
    }
    await client.execute(
      `INSERT INTO ${ks}.schema_migrations (version, description, applied_at) VALUES (?, ?, toTimestamp(now()))`,
      [m.version, m.description],
      { ...options, prepare: true },
    );
    applied.push(m.version);
  }
  return applied;
}

/**
 * Throws an `unavailable` DomainError unless the keyspace has exactly this code's schema version:
 * "Cassandra unreachable: <driver error>" when it cannot be asked (the cause is `isTransient`),
 * else what is wrong with the schema.
 */
export async function checkSchema(client: cassandra.Client, keyspace: string): Promise<void> {
  const done = await appliedVersions(client, checkKeyspaceName(keyspace)).catch((e: unknown) => {
    if (isTransient(e)) {
      throw new DomainError("unavailable", `Cassandra unreachable: ${e instanceof Error ? e.message : String(e)}`, {
        cause: e,
      });
    }
    throw new DomainError("unavailable", "call store schema missing: run `npm run migrate`", { cause: e });
  });
  const version = Math.max(0, ...done);
  if (version !== schemaVersion) {
    throw new DomainError(
      "unavailable",
      `call store schema is v${version}, this server needs v${schemaVersion}: run \`npm run migrate\``,
    );
  }
}

async function appliedVersions(client: cassandra.Client, ks: string): Promise<Set<number>> {
  const rs = await client.execute(`SELECT version FROM ${ks}.schema_migrations`, [], { prepare: false });
  return new Set(rs.rows.map((r) => Number(r.version)));
}

/** Prefixes the table/type name of a CREATE or ALTER statement with the keyspace. */
function qualify(statement: string, ks: string): string {
  return statement.replace(/^(\s*(?:CREATE (?:TABLE|TYPE) IF NOT EXISTS|ALTER (?:TABLE|TYPE)) )(\w+)/, `$1${ks}.$2`);
}

function cqlMap(r: Replication): string {
  const entries = Object.entries(r).map(([k, v]) => {
    if (!/^[\w.-]+$/.test(k) || !/^[\w.-]+$/.test(String(v))) throw new Error(`invalid replication entry ${k}`);
    return `'${k}': '${v}'`;
  });
  return `{${entries.join(", ")}}`;
}
