/** The CallStore contract against a real Cassandra node (CALLDROP_TEST_CASSANDRA), plus schema checks. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { isDomainError } from "../../../domain/errors.ts";
import { callStoreContract } from "../call-store.contract.ts";
import { createCassandraCallStore } from "./cassandra-call-store.ts";
import { createCassandraClient } from "./cassandra-config.ts";
import { checkSchema, ddlTimeoutMs, migrate } from "./migrate.ts";
import { createTestKeyspace, type TestKeyspace, testConfig, testContactPoint } from "./test-support.ts";

const contactPoint = testContactPoint();
let keyspace: TestKeyspace;
let batched: TestKeyspace;

before(async () => {
  [keyspace, batched] = await Promise.all([
    createTestKeyspace(contactPoint, { batchWrites: false }),
    createTestKeyspace(contactPoint, { batchWrites: true }),
  ]);
});
after(async () => {
  await Promise.all([keyspace?.drop(), batched?.drop()]);
});

callStoreContract("cassandra, parallel writes", async () => {
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
    await createCassandraCallStore(keyspace.config, client).checkSchema();
  } finally {
    await client.shutdown();
  }
});

test("a keyspace without the schema is refused with a clear unavailable error, by every store operation", async () => {
  const client = createCassandraClient(testConfig(contactPoint, "system"));
  const missing = (e: unknown) => isDomainError(e, "unavailable") && /npm run migrate/.test(e.message);
  try {
    await assert.rejects(checkSchema(client, "calldrop_missing"), missing);
    const store = createCassandraCallStore(testConfig(contactPoint, "calldrop_missing"), client);
    await assert.rejects(store.get("some-call"), missing);
  } finally {
    await client.shutdown();
  }
});

test("`npm run migrate` creates a keyspace with the given replication, and a re-run changes nothing", async () => {
  const ks = `calldrop_cli_${randomBytes(4).toString("hex")}`;
  const cli = () =>
    spawnSync(
      process.execPath,
      [
        "src/adapters/store/cassandra/migrate-cli.ts",
        "--contact-points",
        contactPoint,
        "--keyspace",
        ks,
        "--replication",
        '{"class":"NetworkTopologyStrategy","datacenter1":1}',
      ],
      { encoding: "utf8" },
    );
  const client = createCassandraClient(testConfig(contactPoint, "system"));
  try {
    const first = cli();
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`${ks}: applied v1`));
    const second = cli();
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /schema up to date/);
    const rs = await client.execute("SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?", [ks]);
    assert.equal(rs.first()?.replication.class, "org.apache.cassandra.locator.NetworkTopologyStrategy");
    await checkSchema(client, ks);
  } finally {
    await client.execute(`DROP KEYSPACE IF EXISTS ${ks}`, [], { readTimeout: ddlTimeoutMs });
    await client.shutdown();
  }
});
