/**
 * `npm run migrate`: creates the call-store keyspace (if missing) and applies the schema migrations.
 *
 *   npm run migrate -- --contact-points cassandra-0.cassandra:9042 --local-dc dc1 --keyspace calldrop \
 *     --replication '{"class":"NetworkTopologyStrategy","dc1":3,"dc2":3}'
 *
 * Each flag falls back to an environment variable: CALLDROP_MIGRATE_CONTACT_POINTS (comma-separated),
 * CALLDROP_MIGRATE_LOCAL_DC, CALLDROP_MIGRATE_KEYSPACE, CALLDROP_MIGRATE_REPLICATION; credentials only
 * from CALLDROP_MIGRATE_USERNAME / CALLDROP_MIGRATE_PASSWORD. The driver waits for schema agreement
 * after each statement. Run it once per release (a k8s Job, k8s/cassandra/migrate-job.yaml), not per pod.
 */
import { parseArgs } from "node:util";
import { createCassandraClient } from "./cassandra-config.ts";
import { cassandraConfigSchema } from "./cassandra-config-schema.ts";
import { checkSchema, migrate, type Replication } from "./migrate.ts";

const { values } = parseArgs({
  options: {
    "contact-points": { type: "string" },
    "local-dc": { type: "string" },
    keyspace: { type: "string" },
    replication: { type: "string" },
  },
});
const env = process.env;
const contactPoints = (values["contact-points"] ?? env.CALLDROP_MIGRATE_CONTACT_POINTS ?? "127.0.0.1:9042").split(",");
const config = cassandraConfigSchema.parse({
  contactPoints,
  localDataCenter: values["local-dc"] ?? env.CALLDROP_MIGRATE_LOCAL_DC ?? "datacenter1",
  keyspace: values.keyspace ?? env.CALLDROP_MIGRATE_KEYSPACE ?? "calldrop",
  ...(env.CALLDROP_MIGRATE_USERNAME
    ? { credentials: { username: env.CALLDROP_MIGRATE_USERNAME, password: env.CALLDROP_MIGRATE_PASSWORD ?? "" } }
    : {}),
  requestTimeoutMs: 60_000,
});
const replication = JSON.parse(
  values.replication ?? env.CALLDROP_MIGRATE_REPLICATION ?? '{"class":"SimpleStrategy","replication_factor":1}',
) as Replication;

const client = createCassandraClient(config);
try {
  const applied = await migrate(client, config.keyspace, replication, (line) => process.stdout.write(`${line}\n`));
  await checkSchema(client, config.keyspace);
  process.stdout.write(
    applied.length > 0
      ? `${config.keyspace}: applied v${applied.join(", v")}\n`
      : `${config.keyspace}: schema up to date\n`,
  );
} finally {
  await client.shutdown();
}
