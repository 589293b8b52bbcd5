/**
 * The same two in-process nodes behind the real SignalService handlers, reached through
 * connect-es' `createRouterTransport` with the production interceptors (auth, error mapping):
 * web devices (Subscribe + Send, docs/spec.md §2) on different nodes place a call (§3), and a
 * stranger is refused with the Connect code of the error table (§4). No server, no sockets.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, test } from "node:test";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { pino } from "pino";
import { type ServerEvent, SignalService } from "../gen/calldrop/v1/signal_pb.js";
import { createTestCluster, type TestCluster, until } from "./app-core.harness.ts";
import { createNodeSignalService } from "./signaling-stack.ts";
import { createAuthenticator, createAuthInterceptor } from "./transport/auth.ts";
import { createRpcInterceptor } from "./transport/rpc-interceptor.ts";

let c: TestCluster;
const streams: AbortController[] = [];
beforeEach(async () => {
  c = await createTestCluster(2);
});
afterEach(async () => {
  for (const s of streams.splice(0)) s.abort();
  await c.close();
});

/** A web client of node `k`'s SignalService, signed in as `userId` with a dev token. */
async function webDevice(k: number, userId: string, deviceId: string) {
  const { config } = c;
  const node = c.node(k);
  const auth = await createAuthenticator({ ...config.auth, hmacSecret: randomBytes(32).toString("base64url") }, true);
  const service = createNodeSignalService(config, node.stack, node.signaling, {
    clock: node.clock,
    metrics: node.metrics,
  });
  const interceptors = [createRpcInterceptor(node.metrics, pino({ level: "silent" })), createAuthInterceptor(auth)];
  const transport = createRouterTransport((router) => router.service(SignalService, service), {
    router: { interceptors },
  });
  const client = createClient(SignalService, transport);
  const headers = { authorization: `Bearer ${await auth.issueDevToken?.(userId, 3600)}` };
  const abort = new AbortController();
  streams.push(abort);
  const events: ServerEvent[] = [];
  // Read in the background until the test's end aborts the stream; any other end fails the test.
  (async () => {
    for await (const r of client.subscribe({ hello: { deviceId } }, { headers, signal: abort.signal })) {
      if (r.event) events.push(r.event);
    }
  })().catch((err: unknown) => {
    if (!abort.signal.aborted) throw err;
  });
  const of = <K extends NonNullable<ServerEvent["kind"]["case"]>>(kind: K) =>
    events.flatMap((e) =>
      e.kind.case === kind ? [e.kind.value as Extract<ServerEvent["kind"], { case: K }>["value"]] : [],
    );
  const next = async <K extends NonNullable<ServerEvent["kind"]["case"]>>(kind: K) => {
    await until(`${userId} got ${kind}`, () => of(kind).length > 0);
    return of(kind)[0] as Extract<ServerEvent["kind"], { case: K }>["value"];
  };
  const { sessionId } = await next("sessionReady");
  let commands = 0;
  const send = (kind: NonNullable<Parameters<typeof client.send>[0]["message"]>["kind"]) =>
    client.send({ sessionId, message: { commandId: `c${++commands}`, kind } }, { headers });
  return { events, of, next, send };
}

test("§2/§3 over connect's router transport: a web call rings across nodes and the accept reaches the caller; §4 a stranger gets permission_denied", async () => {
  const alice = await webDevice(0, "alice", "browser");
  const bob = await webDevice(1, "bob", "browser");
  const carol = await webDevice(1, "carol", "browser");

  const started = await alice.send({ case: "startCall", value: { calleeUserId: "bob", video: false } });
  const callId = started.result?.callId ?? "";
  const incoming = await bob.next("incomingCall");
  assert.equal(incoming.callId, callId);
  assert.equal(incoming.callerUserId, "alice");
  assert.equal((await alice.next("ringing")).devices, 1);

  const refused = await carol.send({ case: "accept", value: { callId } }).catch((err: unknown) => err);
  assert.ok(refused instanceof ConnectError, "a stranger's accept is refused");
  assert.equal(refused.code, Code.PermissionDenied);

  await bob.send({ case: "accept", value: { callId } });
  assert.equal((await alice.next("callAccepted")).answeredDeviceId, "browser");
  await c.settle();
  assert.deepEqual(
    carol.events.map((e) => e.kind.case),
    ["sessionReady"],
    "carol got nothing of the call",
  );
  assert.deepEqual(
    alice.events.map((e) => Number(e.seq)),
    [0, 1, 2],
    "session_ready, ringing, call_accepted: seq 0 then 1, 2",
  );
});
