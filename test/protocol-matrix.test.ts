/**
 * The protocol matrix of the one port (README.md "One port"): every RPC of every service over
 * gRPC, gRPC-Web, Connect binary and Connect JSON, on HTTP/1.1 and HTTP/2 wherever the protocol
 * allows it (gRPC needs HTTP/2; a bidi stream needs HTTP/2), plus a grpc-js client, against the
 * real server process with each HTTP/2 engine. Each cell is a real round trip with its result
 * asserted; event seqs are checked as the proto states them (session_ready 0, events from 1).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { create, type DescMethod, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createWritableIterable } from "@connectrpc/connect/protocol";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { CallEventsService } from "../gen/calldrop/internal/v1/events_pb.js";
import { ServiceHistoryService } from "../gen/calldrop/internal/v1/history_pb.js";
import { BlockService } from "../gen/calldrop/v1/block_pb.js";
import { DeviceService } from "../gen/calldrop/v1/device_pb.js";
import { CallHistoryService } from "../gen/calldrop/v1/history_pb.js";
import { type ConnectRequest, type ServerEvent, SignalService } from "../gen/calldrop/v1/signal_pb.js";
import { type ServerProcess, startServer } from "./support/server-process.ts";

const stun = "stun:stun.calldrop.test:3478";
const unknownCallId = "0190f3a2-0000-7000-8000-000000000000";

/** The calls of one client, whatever carries them. */
interface Rpcs {
  unary(method: DescMethod, request: object): Promise<Record<string, unknown>>;
  /** The first `count` messages of a server stream, then the stream is cancelled; `onFirst` sees the first. */
  serverStream(
    method: DescMethod,
    request: object,
    count: number,
    onFirst: (first: unknown) => void,
  ): Promise<unknown[]>;
  /** Writes `first`, reads one message, writes `second`, reads one more, cancels. */
  bidi(method: DescMethod, first: object, second: object): Promise<unknown[]>;
}

/** A user's token, and a service token for the internal RPCs (docs/spec.md §9). */
interface Tokens {
  readonly user: string;
  readonly service: string;
}
const internal: string[] = [ServiceHistoryService.typeName, CallEventsService.typeName];
const tokenFor = (m: DescMethod, tokens: Tokens) =>
  internal.includes(m.parent.typeName) ? tokens.service : tokens.user;

async function tokensOf(server: ServerProcess, userId: string): Promise<Tokens> {
  return {
    user: await server.token(userId),
    service: await server.serviceToken("matrix", "history:read calls.events:read"),
  };
}

function connectRpcs(transport: Transport, tokens: Tokens): Rpcs {
  const headers = { authorization: `Bearer ${tokens.user}` };
  const services = [
    SignalService,
    CallHistoryService,
    DeviceService,
    BlockService,
    ServiceHistoryService,
    CallEventsService,
  ];
  const clients = new Map(services.map((s) => [s.typeName, createClient(s, transport)]));
  // biome-ignore lint/suspicious/noExplicitAny: methods are looked up by name at run time
  const fn = (m: DescMethod): any => clients.get(m.parent.typeName)?.[m.localName as never];
  return {
    unary: (m, request) =>
      fn(m)(request, { headers: { authorization: `Bearer ${tokenFor(m, tokens)}` }, timeoutMs: 10_000 }),
    async serverStream(m, request, count, onFirst) {
      const abort = new AbortController();
      const out: unknown[] = [];
      const as = { authorization: `Bearer ${tokenFor(m, tokens)}` };
      for await (const res of fn(m)(request, { headers: as, signal: abort.signal })) {
        out.push(res);
        if (out.length === 1) onFirst(res);
        if (out.length === count) break;
      }
      abort.abort();
      return out;
    },
    async bidi(m, first, second) {
      const abort = new AbortController();
      const input = createWritableIterable<object>();
      const out: unknown[] = [];
      const it = (fn(m)(input, { headers, signal: abort.signal }) as AsyncIterable<unknown>)[Symbol.asyncIterator]();
      await input.write(first);
      out.push((await it.next()).value);
      await input.write(second);
      out.push((await it.next()).value);
      abort.abort();
      return out;
    },
  };
}

/** The same calls through @grpc/grpc-js (what mobile apps use), with protobuf-es codecs. */
function grpcJsRpcs(address: string, tokens: Tokens): Rpcs {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const md = (method?: DescMethod) => {
    const m = new grpc.Metadata();
    m.set("authorization", `Bearer ${method ? tokenFor(method, tokens) : tokens.user}`);
    return m;
  };
  const path = (m: DescMethod) => `/${m.parent.typeName}/${m.name}`;
  const ser = (m: DescMethod) => (v: object) => Buffer.from(toBinary(m.input, create(m.input, v as never)));
  const de = (m: DescMethod) => (b: Buffer) => fromBinary(m.output, b);
  const collect = (call: grpc.ClientReadableStream<unknown>, count: number, onFirst: (first: unknown) => void) =>
    new Promise<unknown[]>((resolve, reject) => {
      const out: unknown[] = [];
      call.on("data", (d) => {
        out.push(d);
        if (out.length === 1) onFirst(d);
        if (out.length === count) {
          call.cancel();
          resolve(out);
        }
      });
      call.on("error", (err: grpc.ServiceError) => {
        if (err.code !== grpc.status.CANCELLED) reject(new ConnectError(err.details, err.code as number as Code));
      });
    });
  return {
    unary: (m, request) =>
      new Promise((resolve, reject) => {
        client.makeUnaryRequest(path(m), ser(m), de(m), request, md(m), (err, res) =>
          err ? reject(new ConnectError(err.details, err.code as number as Code)) : resolve(res as never),
        );
      }),
    serverStream: (m, request, count, onFirst) => {
      const call = client.makeServerStreamRequest(path(m), ser(m), de(m), request, md(m));
      return collect(call, count, onFirst);
    },
    bidi: (m, first, second) => {
      const call = client.makeBidiStreamRequest(path(m), ser(m), de(m), md());
      call.write(first);
      return collect(call, 2, () => void call.write(second));
    },
  };
}

const ping = (nonce: bigint, commandId: string) => ({
  message: { commandId, kind: { case: "ping", value: { nonce } } },
});
const event = (res: unknown) => (res as { event: ServerEvent }).event;

/** Every RPC of every service once through `rpcs`, as `userId`; `bidi` when the transport streams both ways. */
async function roundTrips(rpcs: Rpcs, userId: string, bidi: boolean): Promise<void> {
  const S = SignalService.method;
  const ice = await rpcs.unary(S.getIceServers, { callId: "" });
  assert.deepEqual(
    (ice.iceServers as { urls: string[] }[]).map((s) => s.urls),
    [[stun]],
  );

  // Subscribe (a web session) and Send a ping on it: the pong arrives on the stream.
  let sent: Promise<Record<string, unknown>> | undefined;
  const events = await rpcs.serverStream(S.subscribe, { hello: { deviceId: "web" } }, 2, (first) => {
    const ready = event(first);
    const sessionId = ready.kind.case === "sessionReady" ? ready.kind.value.sessionId : "";
    sent = rpcs.unary(S.send, { sessionId, ...ping(7n, "p-web") });
  });
  const sendResult = await sent;
  const [ready, pong] = events.map(event);
  assert.equal(ready?.kind.case, "sessionReady");
  assert.equal(ready.kind.value.userId, userId);
  assert.equal(ready.seq, 0n, "session_ready carries seq 0 (never replayed)");
  assert.equal(pong?.kind.case, "pong");
  assert.equal(pong.kind.value.nonce, 7n);
  assert.equal(pong.seq, 1n, "the first event of a session is seq 1");
  assert.equal((sendResult as { result: { commandId: string } }).result.commandId, "p-web");

  if (bidi) {
    const hello: Partial<ConnectRequest> = {
      message: { kind: { case: "hello", value: { deviceId: "mobile" } } } as never,
    };
    const [r, p] = (await rpcs.bidi(S.connect, hello, ping(9n, "p-mobile"))).map(event);
    assert.equal(r?.kind.case, "sessionReady");
    assert.equal(r.kind.value.deviceId, "mobile");
    assert.equal(r.seq, 0n);
    // The ping's command result or its pong, both numbered from 1.
    assert.ok(p?.kind.case === "pong" || p?.kind.case === "commandResult", String(p?.kind.case));
    assert.equal(p.seq, 1n);
  }

  const H = CallHistoryService.method;
  assert.deepEqual((await rpcs.unary(H.listCalls, { pageSize: 10 })).calls, []);
  await assert.rejects(rpcs.unary(H.getCall, { callId: unknownCallId }), (err) => {
    assert.equal(ConnectError.from(err).code, Code.NotFound);
    return true;
  });
  await assert.rejects(rpcs.unary(H.rateCall, { callId: unknownCallId, score: 4, reasons: [3] }), (err) => {
    assert.equal(ConnectError.from(err).code, Code.NotFound);
    return true;
  });
  await assert.rejects(rpcs.unary(H.rateCall, { callId: unknownCallId, score: 9 }), (err) => {
    assert.equal(ConnectError.from(err).code, Code.InvalidArgument);
    return true;
  });

  const D = DeviceService.method;
  const device = { deviceId: "phone", target: { case: "mobile", value: { platform: 1, token: `tok-${userId}` } } };
  const registered = (await rpcs.unary(D.registerDevice, { device })).device as { deviceId: string };
  assert.equal(registered.deviceId, "phone");
  const listed = (await rpcs.unary(D.listDevices, {})).devices as { deviceId: string }[];
  assert.deepEqual(
    listed.map((d) => d.deviceId),
    ["phone"],
  );
  assert.equal((await rpcs.unary(D.unregisterDevice, { deviceId: "phone" })).removed, true);

  const B = BlockService.method;
  const blocked = (await rpcs.unary(B.blockUser, { userId: "mallory" })).blocked as { userId: string };
  assert.equal(blocked.userId, "mallory");
  const list = (await rpcs.unary(B.listBlockedUsers, {})).users as { userId: string }[];
  assert.deepEqual(
    list.map((b) => b.userId),
    ["mallory"],
  );
  await assert.rejects(rpcs.unary(B.blockUser, { userId }), (err) => {
    assert.equal(ConnectError.from(err).code, Code.InvalidArgument);
    return true;
  });
  assert.equal((await rpcs.unary(B.unblockUser, { userId: "mallory" })).removed, true);

  // The service-facing history, with the service token.
  const I = ServiceHistoryService.method;
  const theirs = (await rpcs.unary(I.listUserCalls, { userId, pageSize: 5 })) as { calls: unknown[] };
  assert.ok(Array.isArray(theirs.calls));
  await assert.rejects(rpcs.unary(I.getUserCall, { callId: unknownCallId }), (err) => {
    assert.equal(ConnectError.from(err).code, Code.NotFound);
    return true;
  });
  await assert.rejects(rpcs.unary(I.listUserCalls, { userId: "no spaces" }), (err) => {
    assert.equal(ConnectError.from(err).code, Code.InvalidArgument);
    return true;
  });

  // The call events (docs/spec.md §9 "Call events"): a stream opens with a heartbeat holding a
  // cursor, and a stream resumed from it opens the same way.
  const E = CallEventsService.method;
  const cursorOf = (res: unknown) => {
    const r = res as { event?: unknown; cursor: string };
    assert.equal(r.event, undefined, "the first message is a heartbeat");
    assert.ok(r.cursor.length > 0);
    return r.cursor;
  };
  const [opened] = await rpcs.serverStream(E.subscribe, { group: "default" }, 1, () => {});
  const [resumed] = await rpcs.serverStream(E.subscribe, { group: "default", cursor: cursorOf(opened) }, 1, () => {});
  cursorOf(resumed);
  await assert.rejects(
    rpcs.serverStream(E.subscribe, { group: "default", memberCount: 99 }, 1, () => {}),
    (err) => {
      assert.equal(ConnectError.from(err).code, Code.InvalidArgument);
      return true;
    },
  );
}

for (const engine of ["grpc-js", "connect-node"] as const) {
  describe(`protocol matrix, HTTP/2 engine ${engine}`, () => {
    let server: ServerProcess;
    before(async () => {
      server = await startServer({
        CALLDROP_SERVER__HTTP2_ENGINE: engine,
        CALLDROP_ICE__STUN_URLS: JSON.stringify([stun]),
        // Mobile push targets can be registered (nothing is pushed in this test).
        CALLDROP_NOTIFICATIONS__GATEWAY: JSON.stringify({
          url: "http://127.0.0.1:9/push",
          secret: "matrix-secret-0123456789",
        }),
      });
    });
    after(() => server?.stop());

    const transports: Record<string, { make: (baseUrl: string) => Transport; bidi: boolean }> = {
      "gRPC h2": { make: (baseUrl) => createGrpcTransport({ baseUrl }), bidi: true },
      "gRPC JSON h2": { make: (baseUrl) => createGrpcTransport({ baseUrl, useBinaryFormat: false }), bidi: true },
      "gRPC-Web h1": { make: (baseUrl) => createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }), bidi: false },
      "gRPC-Web h2": { make: (baseUrl) => createGrpcWebTransport({ baseUrl, httpVersion: "2" }), bidi: true },
      "Connect binary h1": {
        make: (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true }),
        bidi: false,
      },
      "Connect binary h2": {
        make: (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true }),
        bidi: true,
      },
      "Connect JSON h1": { make: (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1" }), bidi: false },
      "Connect JSON h2": { make: (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "2" }), bidi: true },
    };
    for (const [name, { make, bidi }] of Object.entries(transports)) {
      test(`${name}: every RPC`, async () => {
        const userId = `m-${engine}-${name.replace(/\W+/g, "-").toLowerCase()}`;
        await roundTrips(connectRpcs(make(server.baseUrl), await tokensOf(server, userId)), userId, bidi);
      });
    }

    test("grpc-js client: every RPC", async () => {
      const userId = `m-${engine}-grpc-js`;
      await roundTrips(grpcJsRpcs(`127.0.0.1:${server.port}`, await tokensOf(server, userId)), userId, true);
    });
  });
}
