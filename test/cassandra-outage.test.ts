/**
 * No call record is lost when Cassandra goes down (docs/spec.md §7, §12), seen from outside: a
 * server process on the Cassandra store, reached through a TCP proxy the test cuts (the shared
 * Cassandra keeps serving other tests), starts while Cassandra is unreachable and goes through
 * three outages with calls flowing. Calls are unaffected; afterwards every call is in Cassandra
 * once, with its outcome, in both users' histories; each outage is logged in one line when it
 * starts (with the real cause) and one when the outbox has replayed it.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { allPages } from "../src/adapters/store/call-store.contract.ts";
import { createCassandraCallStore } from "../src/adapters/store/cassandra/cassandra-call-store.ts";
import {
  createTestKeyspace,
  type TestKeyspace,
  testContactPoint,
} from "../src/adapters/store/cassandra/test-support.ts";
import type { Outcome } from "../src/domain/call-types.ts";
import { type Device, mobileDevice } from "./support/devices.ts";
import { type ServerProcess, startServer } from "./support/server-process.ts";
import { startTcpProxy, type TcpProxy } from "./support/tcp-proxy.ts";
import { waitFor } from "./support/wait-for.ts";

let keyspace: TestKeyspace;
let proxy: TcpProxy;
let server: ServerProcess | undefined;
before(async () => {
  keyspace = await createTestKeyspace(testContactPoint());
  proxy = await startTcpProxy(testContactPoint(), { down: true });
});
after(async () => {
  await server?.stop();
  await proxy?.close();
  await keyspace?.drop();
});

/** Waits until `cond` holds (at most `ms`). */
const until = (what: string, cond: () => boolean, ms = 60_000) => waitFor(cond, { what, timeoutMs: ms });

interface Made {
  readonly callId: string;
  readonly users: readonly [string, string];
  readonly outcome: Outcome;
}

test("a server started while Cassandra is down, through three outages: every call recorded once, calls unaffected", async () => {
  const { localDataCenter, keyspace: name } = keyspace.config;
  const store = { contactPoints: [proxy.address], localDataCenter, keyspace: name, consistency: "ONE" };
  server = await startServer({
    CALLDROP_STORE__KIND: "cassandra",
    CALLDROP_STORE__CASSANDRA: JSON.stringify({ ...store, requestTimeoutMs: 2000, connectTimeoutMs: 1000 }),
    CALLDROP_CALLS__RING_TIMEOUT_MS: "1000",
    CALLDROP_LIMITS__CALL_STARTS_BURST: "100",
  });
  const s = server;
  const startup = s.logs.find(
    (l) => l.msg === "Cassandra unreachable at startup: starting on the outbox, schema checked when it answers",
  );
  assert.match(String(startup?.reason), /ECONNREFUSED/, "the real cause, not 'schema missing'");
  assert.ok(!s.logs.some((l) => /schema missing/.test(String(l.reason ?? l.msg))));

  const users = ["u0", "u1", "u2", "u3"];
  const devices = new Map<string, Device>();
  for (const u of users) {
    devices.set(u, await mobileDevice({ baseUrl: s.baseUrl, token: await s.token(u), userId: u, deviceId: "p" }));
  }
  const dev = (u: string) => devices.get(u) as Device;
  const made: Made[] = [];

  /** One call, answered and hung up, declined, or missed; every command must succeed. */
  async function call(n: number): Promise<void> {
    const [a, b] = [users[n % 4] as string, users[(n + 1 + (n >> 2)) % 4] as string];
    if (a === b) return call(n + 1);
    const caller = dev(a);
    const callee = dev(b);
    const { callId } = await caller.command("startCall", { calleeUserId: b });
    await callee.next("incomingCall", (v) => v.callId === callId);
    let outcome: Outcome;
    if (n % 7 === 0) {
      // The missed-call event itself waits for a durable outcome (checked at the end).
      await callee.next("callEnded", (v) => v.callId === callId, 10_000);
      outcome = "missed";
    } else if (n % 3 === 0) {
      await callee.command("decline", { callId });
      outcome = "declined";
    } else {
      await callee.command("accept", { callId });
      await caller.next("callAccepted", (v) => v.callId === callId);
      await caller.command("mediaState", { callId, state: 1, path: 1 });
      await caller.command("hangup", { callId });
      outcome = "completed";
    }
    await caller.next("callEnded", (v) => v.callId === callId);
    made.push({ callId, users: [a, b], outcome });
  }
  const replayed = () => s.logs.filter((l) => l.msg === "call store reachable again: outbox replayed");
  const wentDown = () => s.logs.filter((l) => l.msg === "call store unavailable: queueing writes in the outbox");
  let n = 0;
  const calls = async (count: number) => {
    for (const stop = n + count; n < stop; n++) await call(n);
  };

  await calls(14); // outage 1: since startup
  for (let outage = 1; outage <= 3; outage++) {
    await proxy.restore();
    await until(`outage ${outage} replayed`, () => replayed().length === outage);
    await calls(14);
    if (outage < 3) {
      await proxy.cut();
      await calls(14);
    }
  }
  assert.equal(made.length, 84, "every call went through, outages or not");
  assert.equal(wentDown().length, 3, "one line at the start of each outage");
  for (const line of wentDown()) assert.equal(line.err, undefined, "no stack trace");
  for (const line of replayed()) {
    assert.ok(Number(line.queued) > 0, `writes were queued: ${JSON.stringify(line)}`);
    process.stderr.write(
      `outage: down ${line.downForMs} ms, ${line.queued} writes queued, replayed in ${line.replayMs} ms\n`,
    );
  }

  // Read back from Cassandra itself: each call once, with its outcome, in both users' histories.
  const check = createCassandraCallStore(keyspace.config);
  try {
    const outcomeOf = async (callId: string) => (await check.get(callId))?.outcome;
    for (const m of made) {
      await waitFor(async () => (await outcomeOf(m.callId)) !== undefined, {
        what: `an outcome of ${m.callId} in Cassandra`,
        timeoutMs: 20_000,
      });
    }
    let checked = 0;
    for (const m of made) {
      const got = await check.get(m.callId);
      assert.equal(got?.outcome, m.outcome, `outcome of ${m.callId}`);
      assert.equal(got?.answeredAtMs !== undefined, m.outcome === "completed", `answer of ${m.callId}`);
      checked++;
    }
    assert.equal(checked, made.length);
    for (const u of users) {
      const expected = made.filter((m) => m.users.includes(u)).map((m) => m.callId);
      const listed = await allPages(check, u, 10);
      assert.equal(listed.length, new Set(listed).size, `no call doubled in ${u}'s history`);
      assert.deepEqual([...listed].sort(), [...expected].sort(), `${u}'s history holds each of their calls`);
      const missed = made.filter((m) => m.outcome === "missed" && m.users[1] === u).map((m) => m.callId);
      assert.deepEqual((await allPages(check, u, 10, true)).sort(), missed.sort(), `${u}'s missed calls`);
    }
  } finally {
    await check.close();
  }
  // Missed during an outage: told once the outbox set the outcome, and only once.
  for (const m of made.filter((x) => x.outcome === "missed")) {
    const callee = dev(m.users[1]);
    await callee.next("missedCall", (v) => v.callId === m.callId, 20_000);
    const told = callee.events.filter((e) => e.case === "missedCall" && e.value.callId === m.callId);
    assert.equal(told.length, 1, `one missed-call event for ${m.callId}`);
  }
  const notified = s.logs.filter((l) => l.notification === "missed_call");
  assert.equal(notified.length, made.filter((x) => x.outcome === "missed").length, "one notification per missed call");
  for (const d of devices.values()) d.drop();
});
