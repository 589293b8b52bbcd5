/**
 * Helpers for tests and benches against the test node of scripts/services/cassandra.ts
 * (CALLDROP_TEST_CASSANDRA=127.0.0.1:<port>): configs for the single node, throwaway keyspaces.
 */
import { randomBytes } from "node:crypto";
import { type CassandraConfig, cassandraDefaults, createCassandraClient } from "./cassandra-config.ts";
import { ddlTimeoutMs, migrate } from "./migrate.ts";

/** The test node's address; throws (never skips) when `npm test` did not start one. */
export function testContactPoint(): string {
  const contactPoint = process.env.CALLDROP_TEST_CASSANDRA;
  if (!contactPoint) {
    throw new Error(
      "CALLDROP_TEST_CASSANDRA is not set: run through `npm test` (scripts/services/cassandra.ts starts the node)",
    );
  }
  return contactPoint;
}

/** A config for one node: consistency ONE, LWTs at LOCAL_SERIAL. */
export function testConfig(
  contactPoint: string,
  keyspace: string,
  over: Partial<CassandraConfig> = {},
): CassandraConfig {
  return {
    ...cassandraDefaults,
    contactPoints: [contactPoint],
    localDataCenter: "datacenter1",
    keyspace,
    consistency: "ONE",
    ...over,
  };
}

/** A migrated keyspace with a random name; `reset` empties its tables, `drop` removes it. */
export interface TestKeyspace {
  readonly config: CassandraConfig;
  reset(): Promise<void>;
  drop(): Promise<void>;
}

/** Creates and migrates a fresh keyspace on the test node. */
export async function createTestKeyspace(
  contactPoint: string,
  over: Partial<CassandraConfig> = {},
): Promise<TestKeyspace> {
  const keyspace = `calldrop_test_${randomBytes(4).toString("hex")}`;
  const config = testConfig(contactPoint, keyspace, over);
  const setup = createCassandraClient(config);
  let tables: string[];
  try {
    await migrate(setup, keyspace, { class: "SimpleStrategy", replication_factor: 1 });
    tables = (
      await setup.execute("SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?", [keyspace])
    ).rows.map((r) => String(r.table_name));
  } finally {
    await setup.shutdown();
  }
  let admin: ReturnType<typeof createCassandraClient> | undefined;
  return {
    config,
    async reset() {
      admin ??= createCassandraClient(config);
      for (const t of tables.filter((t) => t !== "schema_migrations"))
        await admin.execute(`TRUNCATE ${keyspace}.${t}`, [], { readTimeout: ddlTimeoutMs });
    },
    async drop() {
      admin ??= createCassandraClient(config);
      try {
        await admin.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`, [], { readTimeout: ddlTimeoutMs });
      } finally {
        await admin.shutdown();
        admin = undefined;
      }
    },
  };
}
