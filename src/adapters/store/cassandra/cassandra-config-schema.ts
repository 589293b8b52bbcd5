/**
 * The zod schema of `store.cassandra` in the server config (src/config.ts), with the defaults of
 * cassandra-config.ts. Environment form: CALLDROP_STORE__CASSANDRA__CONTACT_POINTS='["h1:9042"]'.
 */
import { z } from "zod";
import { cassandraDefaults } from "./cassandra-config.ts";

const consistency = z.enum(["ONE", "LOCAL_ONE", "QUORUM", "LOCAL_QUORUM", "EACH_QUORUM", "ALL"]);

/** Validates a CassandraConfig; unknown keys are rejected. */
export const cassandraConfigSchema = z.strictObject({
  contactPoints: z.array(z.string().min(1)).min(1),
  localDataCenter: z.string().min(1),
  keyspace: z.string().regex(/^[a-z][a-z0-9_]{0,47}$/),
  consistency: consistency.default(cassandraDefaults.consistency),
  serialConsistency: z.enum(["SERIAL", "LOCAL_SERIAL"]).default(cassandraDefaults.serialConsistency),
  requestTimeoutMs: z.number().int().positive().default(cassandraDefaults.requestTimeoutMs),
  connectTimeoutMs: z.number().int().positive().default(cassandraDefaults.connectTimeoutMs),
  overdueLookbackMs: z.number().int().positive().default(cassandraDefaults.overdueLookbackMs),
  batchWrites: z.boolean().default(cassandraDefaults.batchWrites),
  eventSettleMs: z.number().int().positive().default(cassandraDefaults.eventSettleMs),
  credentials: z.strictObject({ username: z.string(), password: z.string() }).optional(),
});
