/** The CallStore contract against a real Cassandra node (CALLDROP_TEST_CASSANDRA), plus schema checks. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { isDomainError } from "../../../domain/errors.ts";
import { callStoreContract } from "../call-store.contract.ts";
import { createCassandraCallStore } from "./cassandra-call-store.ts";
import { createCassandraClient } from "./cassandra-config.ts";
import { checkSchema, migrate } from "./migrate.ts";
import { createTestKeyspace, type TestKeyspace, testConfig, testContactPoint } from "./test-support.ts";

const contactPoint = testContactPoint();
let keyspace: TestKeyspace;
let batched: TestKeyspace;

before(async () => {
  [keyspace, batched] = await Promise.all([
    createTestKeyspace(contactPoint),
    createTestKeyspace(contactPoint, { batchWrites: true }),
  ]);
});
after(async () => {
  await Promise.all([keyspace?.drop(), batched?.drop()]);
});

callStoreContract("cassandra", async () => {
  await keyspace.reset();
  return createCassandraCallStore(keyspace.config);
});

callStoreContract("cassandra, batched writes", async () => {
  await batched.reset();
  return createCassandraCallStore(batched.config);
});

test("migrate is idempotent and checkSchema accepts the migrated keyspace", async () => {
  const client = createCassandraClient(keyspace.config);
  try {
    assert.deepEqual(
      await migrate(client, keyspace.config.keyspace, { class: "SimpleStrategy", replication_factor: 1 }),
      [],
    );
    await checkSchema(client, keyspace.config.keyspace);
  } finally {
    await client.shutdown();
  }
});

test("a keyspace without the schema is refused with a clear unavailable error", async () => {
  const client = createCassandraClient(testConfig(contactPoint, "system"));
  try {
    await assert.rejects(
      checkSchema(client, "calldrop_missing"),
      (e: unknown) => isDomainError(e, "unavailable") && /npm run migrate/.test(e.message),
    );
  } finally {
    await client.shutdown();
  }
});
