/**
 * Service tokens and the service-facing history (docs/spec.md §9) against the real server, over
 * Connect and gRPC: a backend with `history:read` reads any user's calls, every read is logged for
 * audit; a user token never calls an internal RPC and a service token never calls a user one.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { ServiceHistoryService } from "../gen/calldrop/internal/v1/history_pb.js";
import { CallHistoryService } from "../gen/calldrop/v1/history_pb.js";
import { SignalService } from "../gen/calldrop/v1/signal_pb.js";
import { mobileDevice, webDevice } from "./support/devices.ts";
import { type ServerProcess, startServer } from "./support/server-process.ts";
import { waitFor } from "./support/wait-for.ts";

const refusedWith = (code: Code, message: RegExp) => (err: unknown) => {
  const e = ConnectError.from(err);
  assert.equal(e.code, code, e.message);
  assert.match(e.rawMessage, message);
  return true;
};

describe("service tokens", () => {
  let server: ServerProcess;
  let callId = "";
  before(async () => {
    server = await startServer();
    const alice = await mobileDevice({
      baseUrl: server.baseUrl,
      token: await server.token("alice"),
      userId: "alice",
      deviceId: "phone",
    });
    const bob = await webDevice({
      baseUrl: server.baseUrl,
      token: await server.token("bob"),
      userId: "bob",
      deviceId: "web",
    });
    ({ callId } = await alice.command("startCall", { calleeUserId: "bob" }));
    await bob.next("incomingCall");
    await bob.command("accept", { callId });
    await alice.command("hangup", { callId });
    await bob.next("callEnded", (v) => v.callId === callId);
    alice.drop();
    bob.drop();
  });
  after(() => server?.stop());

  const transports: Record<string, (baseUrl: string) => Transport> = {
    Connect: (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1" }),
    gRPC: (baseUrl) => createGrpcTransport({ baseUrl }),
  };
  for (const [name, make] of Object.entries(transports)) {
    const as = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

    test(`${name}: a service with history:read reads any user's calls, and each read is logged for audit`, async () => {
      const history = createClient(ServiceHistoryService, make(server.baseUrl));
      const support = as(await server.serviceToken(`support-${name}`, "history:read"));
      for (const userId of ["alice", "bob"]) {
        const page = await history.listUserCalls({ userId }, support);
        assert.deepEqual(
          page.calls.map((c) => c.callId),
          [callId],
        );
      }
      assert.equal((await history.listUserCalls({ userId: "nobody" }, support)).calls.length, 0);
      const { call } = await history.getUserCall({ callId }, support);
      assert.equal(call?.callerUserId, "alice");
      assert.equal(call?.calleeUserId, "bob");
      // Log lines arrive through the server's stdout pipe, possibly after the reply.
      const audited = () => server.logs.filter((l) => l.audit === "history_read" && l.service === `support-${name}`);
      const audit = await waitFor(() => audited().length >= 4 && audited(), { what: "four audit lines" });
      assert.deepEqual(
        audit.map((l) => l.userId ?? l.callId),
        ["alice", "bob", "nobody", callId],
      );
    });

    test(`${name}: bad arguments are invalid_argument, an unknown call not_found`, async () => {
      const history = createClient(ServiceHistoryService, make(server.baseUrl));
      const support = as(await server.serviceToken("support", "history:read"));
      for (const userId of ["", "a b", "x".repeat(200), "bob\u0000"]) {
        await assert.rejects(history.listUserCalls({ userId }, support), refusedWith(Code.InvalidArgument, /user_id/));
      }
      await assert.rejects(
        history.listUserCalls({ userId: "alice", pageSize: 1_000 }, support),
        refusedWith(Code.InvalidArgument, /page_size/),
      );
      await assert.rejects(
        history.listUserCalls({ userId: "alice", pageToken: "garbage" }, support),
        refusedWith(Code.InvalidArgument, /page/),
      );
      await assert.rejects(
        history.getUserCall({ callId: "../../etc" }, support),
        refusedWith(Code.InvalidArgument, /call/),
      );
      await assert.rejects(
        history.getUserCall({ callId: "0190f3a2-0000-7000-8000-000000000000" }, support),
        refusedWith(Code.NotFound, /no such call/),
      );
    });

    test(`${name}: a user token is refused by the internal RPCs, a service token by the user RPCs`, async () => {
      const transport = make(server.baseUrl);
      const internal = createClient(ServiceHistoryService, transport);
      const user = as(await server.token("alice"));
      await assert.rejects(
        internal.listUserCalls({ userId: "bob" }, user),
        refusedWith(Code.PermissionDenied, /is for services: it takes a service token/),
      );
      await assert.rejects(internal.getUserCall({ callId }, user), refusedWith(Code.PermissionDenied, /service token/));

      const service = as(await server.serviceToken("chat", "history:read"));
      await assert.rejects(
        createClient(CallHistoryService, transport).listCalls({}, service),
        refusedWith(Code.PermissionDenied, /a service token cannot call ListCalls/),
      );
      const signal = createClient(SignalService, transport);
      await assert.rejects(
        signal.send({ sessionId: "x", message: { commandId: "c1" } }, service),
        refusedWith(Code.PermissionDenied, /a service token cannot call Send/),
      );
      await assert.rejects(
        async () => {
          for await (const _ of signal.subscribe({ hello: { deviceId: "d" } }, service)) break;
        },
        refusedWith(Code.PermissionDenied, /a service token cannot call Subscribe/),
      );
    });

    test(`${name}: expired, scopeless, unknown-kind and garbage tokens are unauthenticated`, async () => {
      const internal = createClient(ServiceHistoryService, make(server.baseUrl));
      const cases: [string, RegExp][] = [
        [await server.serviceToken("support", "history:read", -10), /expired/],
        [await server.serviceToken("support", "calls.admin"), /no known scope/],
        [await server.serviceToken("support", ""), /no known scope/],
        ["not.a.jwt", /malformed/],
      ];
      for (const [token, message] of cases) {
        await assert.rejects(
          internal.listUserCalls({ userId: "alice" }, as(token)),
          refusedWith(Code.Unauthenticated, message),
        );
      }
      await assert.rejects(
        internal.listUserCalls({ userId: "alice" }, {}),
        refusedWith(Code.Unauthenticated, /missing bearer/),
      );
    });
  }

  test("the local-mode issuer mints a service token that works", async () => {
    const res = await fetch(`${server.baseUrl}/dev/service-token?service=support&scope=history:read`);
    assert.equal(res.status, 200);
    const { token } = (await res.json()) as { token: string };
    const history = createClient(
      ServiceHistoryService,
      createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }),
    );
    const page = await history.listUserCalls({ userId: "alice" }, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(page.calls[0]?.callId, callId);
  });
});
