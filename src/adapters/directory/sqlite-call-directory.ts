import type { CallDirectory, LiveCall } from "../../app/ports/call-directory.ts";
import { claimConflict, keepsBusy, preferred } from "../../domain/call-waiting.ts";
import { openWalDatabase } from "../sqlite/wal.ts";

const schema = `
CREATE TABLE IF NOT EXISTS live_calls (
  call_id TEXT PRIMARY KEY,
  owner_node_id TEXT NOT NULL,
  caller_user_id TEXT NOT NULL,
  callee_user_id TEXT NOT NULL,
  state TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS live_calls_by_owner ON live_calls (owner_node_id);
CREATE TABLE IF NOT EXISTS live_call_users (
  user_id TEXT PRIMARY KEY,
  call_id TEXT NOT NULL
) STRICT;
-- A user's second live call: a waiting call, or the one answered while another rang (docs/spec.md §14).
CREATE TABLE IF NOT EXISTS live_call_waiting (
  user_id TEXT PRIMARY KEY,
  call_id TEXT NOT NULL
) STRICT;
`;

interface Row {
  call_id: string;
  owner_node_id: string;
  state: string;
}

const toLive = (r: Row): LiveCall => ({
  callId: r.call_id,
  ownerNodeId: r.owner_node_id,
  state: JSON.parse(r.state) as LiveCall["state"],
});

/**
 * The embedded call directory on node:sqlite, for a single machine: several server
 * processes may share one file (WAL mode; each write is one BEGIN IMMEDIATE
 * transaction, so claims are atomic across processes). This is what the 3-node test
 * cluster runs on; a cluster across machines needs a shared engine (see the port).
 */
export function createSqliteCallDirectory(path: string): CallDirectory {
  const wal = openWalDatabase(path);
  const { db } = wal;
  db.exec(schema);
  const byId = db.prepare("SELECT * FROM live_calls WHERE call_id = ?");
  const ofUser = db.prepare(
    `SELECT c.*, 0 AS slot FROM live_call_users u JOIN live_calls c ON c.call_id = u.call_id WHERE u.user_id = ?
     UNION ALL
     SELECT c.*, 1 AS slot FROM live_call_waiting w JOIN live_calls c ON c.call_id = w.call_id WHERE w.user_id = ?`,
  );
  const insertCall = db.prepare(
    "INSERT INTO live_calls (call_id, owner_node_id, caller_user_id, callee_user_id, state) VALUES (?, ?, ?, ?, ?)",
  );
  const insertUser = [
    db.prepare("INSERT OR REPLACE INTO live_call_users (user_id, call_id) VALUES (?, ?)"),
    db.prepare("INSERT OR REPLACE INTO live_call_waiting (user_id, call_id) VALUES (?, ?)"),
  ];
  const setState = db.prepare("UPDATE live_calls SET state = ? WHERE call_id = ?");
  const deleteCall = db.prepare("DELETE FROM live_calls WHERE call_id = ?");
  const deleteUsers = db.prepare("DELETE FROM live_call_users WHERE call_id = ?");
  const deleteWaiting = db.prepare("DELETE FROM live_call_waiting WHERE call_id = ?");
  const owned = db.prepare("SELECT * FROM live_calls WHERE owner_node_id = ? LIMIT ?");
  const ownedIdRows = db.prepare("SELECT call_id FROM live_calls WHERE owner_node_id = ?");
  const page = db.prepare("SELECT * FROM live_calls WHERE call_id > ? ORDER BY call_id LIMIT ?");
  const move = db.prepare("UPDATE live_calls SET owner_node_id = ? WHERE call_id = ? AND owner_node_id = ?");

  /** The user's calls, each with the slot it is listed in. */
  const callsOf = (userId: string) =>
    (ofUser.all(userId, userId) as unknown as (Row & { slot: number })[]).map((r) => ({ ...toLive(r), slot: r.slot }));
  /** Lists the call for `userId` in a slot that holds no call keeping them busy (the other slot is the waiting one). */
  const list = (userId: string, callId: string, calls: ReturnType<typeof callsOf>) => {
    const taken = calls.find((c) => c.slot === 0 && keepsBusy(c.state));
    insertUser[taken ? 1 : 0]?.run(userId, callId);
  };
  const strip = ({ slot: _slot, ...live }: LiveCall & { slot: number }): LiveCall => live;
  const transaction = <T>(fn: () => T): T => {
    db.exec("BEGIN IMMEDIATE");
    try {
      const result = fn();
      db.exec("COMMIT");
      return result;
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  };

  return {
    async claim(state, ownerNodeId) {
      const { call } = state;
      return transaction(() => {
        const callerCalls = callsOf(call.caller.userId);
        const calleeCalls = callsOf(call.calleeUserId);
        const conflict = claimConflict(state, callerCalls.map(strip), calleeCalls.map(strip));
        if (conflict) return { ok: false, ...conflict };
        insertCall.run(call.callId, ownerNodeId, call.caller.userId, call.calleeUserId, JSON.stringify(state));
        list(call.caller.userId, call.callId, callerCalls);
        list(call.calleeUserId, call.callId, calleeCalls);
        return { ok: true };
      });
    },
    async update(state) {
      setState.run(JSON.stringify(state), state.call.callId);
    },
    async release(callId) {
      transaction(() => {
        deleteUsers.run(callId);
        deleteWaiting.run(callId);
        deleteCall.run(callId);
      });
    },
    async find(callId) {
      const row = byId.get(callId) as Row | undefined;
      return row ? toLive(row) : undefined;
    },
    findByUser: async (userId) => preferred(callsOf(userId).map(strip)),
    callsOfUser: async (userId) => callsOf(userId).map(strip),
    ownedBy: async (nodeId, limit) => (owned.all(nodeId, limit) as unknown as Row[]).map(toLive),
    ownedIds: async (nodeId) =>
      new Set((ownedIdRows.all(nodeId) as unknown as { call_id: string }[]).map((r) => r.call_id)),
    list: async (after, limit) => (page.all(after, limit) as unknown as Row[]).map(toLive),
    takeOver: async (callId, fromNodeId, toNodeId) => move.run(toNodeId, callId, fromNodeId).changes === 1,
    close: () => wal.close(),
  };
}
