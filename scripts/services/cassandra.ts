/**
 * Test service: one Apache Cassandra 5.0 node on 127.0.0.1 for the whole `npm test` run
 * (jars fetched from Maven Central on first use, see scripts/cassandra/node.ts).
 * Tests reach it through CALLDROP_TEST_CASSANDRA=127.0.0.1:<port> (local DC "datacenter1").
 */
import { startNode } from "../cassandra/node.ts";
import type { TestService } from "./service.ts";

/** Starts the shared test node; `stop()` kills it and deletes its data. */
const cassandraService: TestService = {
  name: "cassandra",
  async start(log) {
    const node = await startNode({ log });
    return { env: { CALLDROP_TEST_CASSANDRA: node.contactPoint }, stop: () => node.stop() };
  },
};

export default cassandraService;
