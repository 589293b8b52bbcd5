/**
 * What the Cassandra alternative of the call directory would cost per call (docs/cluster.md
 * "Call directory size"), measured on a real Cassandra in a scratch keyspace that is dropped
 * afterwards: the port's recipe for a store without multi-key transactions — claim the two
 * users with lightweight transactions in user-id order (undo the first when the second
 * fails), then write the call and its owner row; phase changes conditional on the owner;
 * releases conditional on the users still pointing at the call. 7 LWTs per answered call.
 */
import { randomUUID } from "node:crypto";
import cassandra from "cassandra-driver";
import { v7 as uuidv7 } from "uuid";
import { type LatencySummary, summarize } from "../../lib/stats.ts";

export interface LwtResult {
  readonly lifecycles: number;
  readonly lwtPerLifecycle: number;
  readonly claimMs: LatencySummary;
  readonly updateMs: LatencySummary;
  readonly releaseMs: LatencySummary;
  /** The claim's plain (non-LWT) writes of the call and owner rows, for scale: the same Cassandra without Paxos. */
  readonly plainWriteMs: LatencySummary;
}

const KEYSPACE = "calldrop_directory_bench";

/** Runs `lifecycles` calls one after the other against the Cassandra at `contactPoint` (host:port). */
export async function measureCassandraLwt(contactPoint: string, lifecycles: number): Promise<LwtResult> {
  const client = new cassandra.Client({ contactPoints: [contactPoint], localDataCenter: "datacenter1" });
  const claimMs: number[] = [];
  const updateMs: number[] = [];
  const releaseMs: number[] = [];
  const plainWriteMs: number[] = [];
  let lwt = 0;
  const run = async (cql: string, params: unknown[]) => {
    if (/\bIF\b/.test(cql)) lwt++;
    const rs = await client.execute(cql, params, { prepare: true });
    return rs.first()?.["[applied]"] !== false;
  };
  try {
    await client.connect();
    await client.execute(
      `CREATE KEYSPACE IF NOT EXISTS ${KEYSPACE} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
    );
    await client.execute(`CREATE TABLE IF NOT EXISTS ${KEYSPACE}.users (user_id text PRIMARY KEY, call_id uuid)`);
    await client.execute(
      `CREATE TABLE IF NOT EXISTS ${KEYSPACE}.calls (call_id uuid PRIMARY KEY, owner text, state blob)`,
    );
    await client.execute(
      `CREATE TABLE IF NOT EXISTS ${KEYSPACE}.owners (owner text, call_id uuid, PRIMARY KEY (owner, call_id))`,
    );
    const state = Buffer.alloc(130, 7); // the compact etcd value's size
    for (let i = 0; i < lifecycles; i++) {
      const callId = uuidv7();
      const owner = `calldrop-signaling-${i % 50}-1a2b3c4d`;
      const users = [randomUUID(), randomUUID()].sort();
      const t0 = performance.now();
      for (const [n, user] of users.entries()) {
        if (
          !(await run(`INSERT INTO ${KEYSPACE}.users (user_id, call_id) VALUES (?, ?) IF NOT EXISTS`, [user, callId]))
        ) {
          if (n > 0) await run(`DELETE FROM ${KEYSPACE}.users WHERE user_id = ? IF call_id = ?`, [users[0], callId]);
          throw new Error("call-directory bench: a Cassandra claim between fresh users lost");
        }
      }
      const tw = performance.now();
      await Promise.all([
        run(`INSERT INTO ${KEYSPACE}.calls (call_id, owner, state) VALUES (?, ?, ?)`, [callId, owner, state]),
        run(`INSERT INTO ${KEYSPACE}.owners (owner, call_id) VALUES (?, ?)`, [owner, callId]),
      ]);
      plainWriteMs.push(performance.now() - tw);
      claimMs.push(performance.now() - t0);
      for (let phase = 0; phase < 3; phase++) {
        const t1 = performance.now();
        await run(`UPDATE ${KEYSPACE}.calls SET state = ? WHERE call_id = ? IF owner = ?`, [state, callId, owner]);
        updateMs.push(performance.now() - t1);
      }
      const t2 = performance.now();
      await Promise.all(
        users.map((u) => run(`DELETE FROM ${KEYSPACE}.users WHERE user_id = ? IF call_id = ?`, [u, callId])),
      );
      await Promise.all([
        run(`DELETE FROM ${KEYSPACE}.calls WHERE call_id = ?`, [callId]),
        run(`DELETE FROM ${KEYSPACE}.owners WHERE owner = ? AND call_id = ?`, [owner, callId]),
      ]);
      releaseMs.push(performance.now() - t2);
    }
    return {
      lifecycles,
      lwtPerLifecycle: lwt / lifecycles,
      claimMs: summarize(claimMs),
      updateMs: summarize(updateMs),
      releaseMs: summarize(releaseMs),
      plainWriteMs: summarize(plainWriteMs),
    };
  } finally {
    await client.execute(`DROP KEYSPACE IF EXISTS ${KEYSPACE}`).catch(() => undefined);
    await client.shutdown();
  }
}
