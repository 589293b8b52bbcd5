/**
 * The webhook dispatcher's state on Apache Cassandra (tables webhook_cursors and
 * webhook_dead_letters, schema.ts v10; docs/spec.md §9 "Webhooks"), shared by every node so the
 * node that takes a partition over continues from its cursor. One node at a time writes a
 * (endpoint, partition) row (the claims in etcd), so plain writes do: no lightweight transaction.
 */
import type cassandra from "cassandra-driver";
import type { DeadLetter, WebhookCursor, WebhookState } from "../../app/ports/webhook-state.ts";
import { type CassandraConfig, createCassandraClient } from "../store/cassandra/cassandra-config.ts";
import { guarded } from "../store/cassandra/driver-errors.ts";
import { checkSchema } from "../store/cassandra/migrate.ts";
import { num } from "../store/cassandra/rows.ts";

const q = {
  get: "SELECT * FROM webhook_cursors WHERE endpoint = ? AND part = ?",
  put: `INSERT INTO webhook_cursors (endpoint, part, seq, event_id, pending_event_id, attempts, next_attempt_at_ms, last_error)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  keep: `INSERT INTO webhook_dead_letters (endpoint, event_id, part, attempts, last_error, dead_at_ms)
         VALUES (?, ?, ?, ?, ?, ?)`,
  letters: "SELECT * FROM webhook_dead_letters WHERE endpoint = ?",
  remove: "DELETE FROM webhook_dead_letters WHERE endpoint = ? AND event_id = ? IF EXISTS",
};

/** The state over `config.keyspace` (migrated by `npm run migrate`). */
export function createCassandraWebhookState(config: CassandraConfig): WebhookState {
  const db = createCassandraClient(config, config.keyspace);
  let schemaChecked = false;
  async function exec(query: string, params: unknown[], idempotent = true): Promise<cassandra.types.ResultSet> {
    if (!schemaChecked) {
      await checkSchema(db, config.keyspace);
      schemaChecked = true;
    }
    return db.execute(query, params, { prepare: true, isIdempotent: idempotent });
  }
  const run = <T>(what: string, op: () => Promise<T>) => guarded(what, op, "webhook state");
  const put = (endpoint: string, partition: number, c: WebhookCursor) => {
    const p = c.pending;
    return {
      query: q.put,
      params: [
        endpoint,
        partition,
        c.position.seq,
        c.position.eventId,
        p?.eventId ?? null,
        p?.attempts ?? 0,
        p?.nextAttemptAtMs ?? 0,
        p?.lastError ?? "",
      ],
    };
  };

  return {
    cursor: (endpoint, partition) =>
      run("cursor", async () => {
        const r = (await exec(q.get, [endpoint, partition])).first();
        if (!r) return undefined;
        const position = { seq: num(r.seq) ?? 0, eventId: String(r.event_id ?? "") };
        if (r.pending_event_id === null || r.pending_event_id === undefined) return { position };
        return {
          position,
          pending: {
            eventId: String(r.pending_event_id),
            attempts: Number(r.attempts ?? 0),
            nextAttemptAtMs: num(r.next_attempt_at_ms) ?? 0,
            lastError: String(r.last_error ?? ""),
          },
        };
      }),
    saveCursor: (endpoint, partition, cursor) =>
      run("saveCursor", async () => {
        const s = put(endpoint, partition, cursor);
        await exec(s.query, s.params);
      }),
    deadLetter: (l, cursor) =>
      run("deadLetter", async () => {
        // One partition key each: a logged batch makes the pair atomic.
        await db.batch(
          [
            { query: q.keep, params: [l.endpoint, l.eventId, l.partition, l.attempts, l.lastError, l.deadAtMs] },
            put(l.endpoint, l.partition, cursor),
          ],
          { prepare: true, logged: true },
        );
      }),
    deadLetters: (endpoint, limit) =>
      run("deadLetters", async () =>
        (await exec(q.letters, [endpoint])).rows
          .map(
            (r): DeadLetter => ({
              endpoint: String(r.endpoint),
              eventId: String(r.event_id),
              partition: Number(r.part),
              attempts: Number(r.attempts),
              lastError: String(r.last_error),
              deadAtMs: num(r.dead_at_ms) ?? 0,
            }),
          )
          .sort((a, b) => a.deadAtMs - b.deadAtMs || (a.eventId < b.eventId ? -1 : 1))
          .slice(0, limit),
      ),
    removeDeadLetter: (endpoint, eventId) =>
      run("removeDeadLetter", async () => (await exec(q.remove, [endpoint, eventId], false)).wasApplied()),
    async close() {
      await db.shutdown();
    },
  };
}
