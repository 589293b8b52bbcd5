/** Reading a call's record straight from Cassandra while a server writes it (tests wait for the state). */
import { createCassandraCallStore } from "../../src/adapters/store/cassandra/cassandra-call-store.ts";
import type { CassandraConfig } from "../../src/adapters/store/cassandra/cassandra-config.ts";
import type { CallRecord } from "../../src/app/ports/call-store.ts";
import { waitFor } from "./wait-for.ts";

/** Waits until the stored record of `callId` satisfies `ok` (`what` says how, for the timeout message). */
export async function storedRecord(
  config: CassandraConfig,
  callId: string,
  what: string,
  ok: (r: CallRecord | undefined) => boolean,
): Promise<CallRecord | undefined> {
  const store = createCassandraCallStore(config);
  let last: CallRecord | undefined;
  try {
    return await waitFor(
      async () => {
        last = await store.get(callId);
        return ok(last) && { record: last };
      },
      { what: `the record of ${callId} ${what}`, timeoutMs: 30_000, intervalMs: 200, state: () => last },
    ).then((found) => found.record);
  } finally {
    await store.close();
  }
}
