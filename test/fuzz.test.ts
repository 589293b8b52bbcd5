/**
 * Fuzz test of the live server (docs/spec.md §4, §9): property-based ClientMessages on every
 * transport (gRPC via grpc-js on HTTP/2; Connect binary and JSON and gRPC-Web on HTTP/1.1 and
 * HTTP/2) and raw request bodies (random bytes, truncated and oversized frames, wrong content
 * types) against a real server process, while two other users hold a call. Properties:
 * - the process stays up (it answers /healthz after every run);
 * - every reply is OK or a code of the error table (src/transport/error-codes.ts) with a message;
 * - the concurrent call gets every signal, in order, and ends normally.
 * Runs are bounded; a failure prints fast-check's seed and path: rerun with CALLDROP_TEST_FUZZ_SEED=<seed>.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type DescMessage, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import fc from "fast-check";
import { DeviceService } from "../gen/calldrop/v1/device_pb.js";
import { CallHistoryService } from "../gen/calldrop/v1/history_pb.js";
import {
  ClientMessageSchema,
  ConnectRequestSchema,
  type ConnectResponse,
  ConnectResponseSchema,
  GetIceServersRequestSchema,
  HelloSchema,
  SendRequestSchema,
  SignalService,
} from "../gen/calldrop/v1/signal_pb.js";
import { clientErrorCodes } from "../src/codec/status-codes.ts";
import { type Device, mobileDevice, webDevice } from "./support/devices.ts";
import { encodedArb, messageArb, rawBodyArb, type StringPools } from "./support/fuzz-arbitraries.ts";
import { sendRaw } from "./support/raw-rpc.ts";
import { type ServerProcess, startServer } from "./support/server-process.ts";

const seed = Number(process.env.CALLDROP_TEST_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
// The runs are bounded by count; the time limit only catches a server that stopped answering (a run takes
// 20–40 s on a busy 2-core machine, so it leaves room for a slow CI run).
const params = (numRuns: number) => ({ numRuns, seed, interruptAfterTimeLimit: 150_000, markInterruptAsFailure: true });

/** OK or a code the error table produces, with a message for every error. */
function assertClientCode(code: Code | 0, message: string, what: string): void {
  if (code === 0) return;
  assert.ok(clientErrorCodes.has(code), `${what}: ${Code[code] ?? code} is not in the error table (${message})`);
  assert.ok(message.trim().length > 0, `${what}: ${Code[code]} without a message`);
}

const snake = (c: Code) => Code[c].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
const clientErrorNames = new Set([...clientErrorCodes].map(snake));

let server: ServerProcess;
let alice: Device;
let bob: Device;
let callId = "";
let fuzzWeb: Device;
let fuzzToken = "";
let pools: StringPools;

async function assertUp(): Promise<void> {
  const res = await fetch(`${server.baseUrl}/healthz`);
  assert.equal(res.status, 200, "the server stopped serving");
}

/** The concurrent call's signals: both sides send numbered descriptions, one at a time, until the fuzz ends. */
const sent = { alice: [] as string[], bob: [] as string[] };
let pumping = true;
let pump: Promise<void> = Promise.resolve();

before(async () => {
  server = await startServer();
  const open = async (make: typeof mobileDevice, userId: string) =>
    make({ baseUrl: server.baseUrl, token: await server.token(userId), userId, deviceId: "d1" });
  alice = await open(mobileDevice, "fuzz-alice");
  bob = await open(webDevice, "fuzz-bob");
  ({ callId } = await alice.command("startCall", { calleeUserId: bob.userId }));
  await bob.next("incomingCall");
  await bob.command("accept", { callId });
  await alice.next("callAccepted");
  // Media is up on both sides (else the setup deadline would end the call during the fuzz).
  for (const d of [alice, bob]) await d.command("mediaState", { callId, state: 1, path: 1, setupMs: 300 });
  fuzzToken = await server.token("fz-web");
  fuzzWeb = await open(webDevice, "fz-web");
  pools = {
    // The other users' call is a target too: a non-participant must not touch it.
    callIds: [callId, "not-a-call"],
    userIds: ["fz-web", "fz-mobile", "fz-nobody", "fuzz-alice"],
    sessionIds: [fuzzWeb.session.id, bob.session.id],
    resumeTokens: [fuzzWeb.session.resumeToken, bob.session.resumeToken],
  };
  pump = (async () => {
    for (let i = 0; pumping; i++) {
      for (const [from, side, type] of [
        [alice, "alice", 1],
        [bob, "bob", 2],
      ] as const) {
        const sdp = `v=0\r\ns=${side} ${i}\r\n`;
        await from.command("description", { callId, type, sdp });
        sent[side].push(sdp);
      }
    }
  })();
});

after(async () => {
  pumping = false;
  await pump.catch(() => {});
  for (const d of [alice, bob, fuzzWeb]) d?.drop();
  await server?.stop();
});

const transports = (): Record<string, Transport> => ({
  "connect binary h1": createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1", useBinaryFormat: true }),
  "connect json h1": createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }),
  "grpc-web h1": createGrpcWebTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }),
  "connect binary h2": createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "2", useBinaryFormat: true }),
  "connect json h2": createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "2" }),
  "grpc-web h2": createGrpcWebTransport({ baseUrl: server.baseUrl, httpVersion: "2" }),
});

async function settle(what: string, rpc: () => Promise<unknown>): Promise<void> {
  try {
    await rpc();
  } catch (err) {
    const e = ConnectError.from(err);
    assertClientCode(e.code, e.rawMessage, what);
  }
}

const probeNonce = 0x5eed_cafen;
let probes = 0;

/**
 * A grpc-js bidi `Connect` stream: sends `first` (a valid hello unless fuzzed), then `message`,
 * then a ping probe, and waits until the probe is answered or the stream ends. Every command
 * error on the way and the stream's final status must be client codes with messages.
 */
function bidiRun(first: Uint8Array, message: Uint8Array, what: string): Promise<void> {
  const client = new grpc.Client(server.baseUrl.replace("http://", ""), grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  md.set("authorization", `Bearer ${fuzzToken}`);
  const call = client.makeBidiStreamRequest<Uint8Array, ConnectResponse>(
    "/calldrop.v1.SignalService/Connect",
    (b) => Buffer.from(b),
    (b) => fromBinary(ConnectResponseSchema, b),
    md,
    { deadline: Date.now() + 5000 },
  );
  // A fresh command id each run: a repeated one is a retry, answered from the command cache without a pong.
  const probeId = `probe-${++probes}`;
  const probe = toBinary(ConnectRequestSchema, {
    $typeName: "calldrop.v1.ConnectRequest",
    message: {
      $typeName: "calldrop.v1.ClientMessage",
      commandId: probeId,
      resendOf: "",
      kind: { case: "ping", value: { $typeName: "calldrop.v1.Ping", nonce: probeNonce } },
    },
  });
  return new Promise<void>((resolve, reject) => {
    const finish = (err?: unknown) => {
      call.cancel();
      client.close();
      if (err) reject(err);
      else resolve();
    };
    const seen: string[] = [];
    call.on("data", ({ event }: ConnectResponse) => {
      try {
        const k = event?.kind;
        seen.push(String(k?.case));
        if (k?.case === "error") {
          assert.ok(clientErrorNames.has(k.value.code), `${what}: command error ${k.value.code} (${k.value.message})`);
          assert.ok(k.value.message.trim(), `${what}: command error ${k.value.code} without a message`);
        }
        // The probe is answered by its pong, or refused (e.g. rate-limited) under its command id.
        if (k?.case === "pong" ? k.value.nonce === probeNonce : k?.case === "error" && k.value.commandId === probeId) {
          finish();
        }
      } catch (err) {
        finish(err);
      }
    });
    call.on("error", (err: grpc.ServiceError) => {
      if (err.code === grpc.status.CANCELLED) return;
      try {
        assertClientCode(err.code as number as Code, err.details, `${what}: stream status after ${seen.join(",")}`);
        finish();
      } catch (e) {
        finish(e);
      }
    });
    call.on("end", () => finish());
    call.write(first);
    call.write(message);
    call.write(probe);
  });
}

const validHello = () =>
  toBinary(ConnectRequestSchema, {
    $typeName: "calldrop.v1.ConnectRequest",
    message: {
      $typeName: "calldrop.v1.ClientMessage",
      commandId: "",
      resendOf: "",
      kind: {
        case: "hello",
        value: { $typeName: "calldrop.v1.Hello", deviceId: "fz-grpc", resumeToken: "", lastSeq: 0n },
      },
    },
  });

describe("fuzz: the live server under arbitrary input", () => {
  test(`ClientMessages on every transport and RPC (seed ${seed})`, async () => {
    const byName = transports();
    const headers = { authorization: `Bearer ${fuzzToken}` };
    const target = fc.oneof(
      fc.record({
        rpc: fc.constant("Send" as const),
        transport: fc.constantFrom(...Object.keys(byName)),
        request: messageArb(SendRequestSchema, pools),
      }),
      fc.record({
        rpc: fc.constant("Subscribe" as const),
        transport: fc.constantFrom(...Object.keys(byName)),
        hello: messageArb(HelloSchema, pools),
      }),
      fc.record({
        rpc: fc.constant("GetIceServers" as const),
        transport: fc.constantFrom(...Object.keys(byName)),
        request: messageArb(GetIceServersRequestSchema, pools),
      }),
      fc.record({
        rpc: fc.constant("Connect" as const),
        first: fc.boolean(),
        message: messageArb(ClientMessageSchema, pools),
      }),
    );
    await fc.assert(
      fc.asyncProperty(target, async (t) => {
        const what = `${t.rpc}${"transport" in t ? ` over ${t.transport}` : ""}`;
        if (t.rpc === "Connect") {
          const fuzzed = toBinary(ConnectRequestSchema, {
            $typeName: "calldrop.v1.ConnectRequest",
            message: t.message,
          });
          await bidiRun(t.first ? fuzzed : validHello(), t.first ? validHello() : fuzzed, what);
        } else {
          const client = createClient(SignalService, byName[t.transport] as Transport);
          const options = { headers, timeoutMs: 5000 };
          if (t.rpc === "Send") await settle(what, () => client.send(t.request, options));
          if (t.rpc === "GetIceServers") await settle(what, () => client.getIceServers(t.request, options));
          if (t.rpc === "Subscribe") {
            const abort = new AbortController();
            await settle(what, async () => {
              for await (const res of client.subscribe({ hello: t.hello }, { ...options, signal: abort.signal })) {
                if (res.event?.kind.case === "sessionReady") break;
              }
            });
            abort.abort();
          }
        }
        await assertUp();
      }),
      params(300),
    );
  });

  test(`raw request bodies, frames and content types on both HTTP versions (seed ${seed})`, async () => {
    const methods = [SignalService, CallHistoryService, DeviceService].flatMap((s) =>
      s.methods.map((m) => ({ path: `/${s.typeName}/${m.name}`, input: m.input as DescMessage, kind: m.methodKind })),
    );
    const unary = ["application/proto", "application/json"];
    const streaming = ["application/connect+proto", "application/connect+json"];
    const both = [
      "application/grpc",
      "application/grpc+proto",
      "application/grpc-web+proto",
      "application/grpc-web+json",
    ];
    const elsewhere = ["application/grpc-web-text", "text/plain", "application/x-www-form-urlencoded", ""];
    const request = fc.constantFrom(...methods).chain((m) =>
      fc.record({
        method: fc.constant(m),
        httpVersion: fc.constantFrom("1.1" as const, "2" as const),
        contentType: fc.constantFrom(...unary, ...streaming, ...both, ...elsewhere),
        authorization: fc.constantFrom(`Bearer ${fuzzToken}`, undefined, "Bearer garbage", "Basic Zm9vOmJhcg=="),
        body: rawBodyArb(encodedArb(m.input, pools)),
      }),
    );
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const what = `${r.method.path} as ${r.contentType || "(none)"} over HTTP/${r.httpVersion}`;
        const reply = await sendRaw({ ...r, path: r.method.path }, server.port);
        if (reply.kind === "rpc") {
          assertClientCode(reply.code, reply.message, what);
        } else {
          // A content type no protocol of this method speaks is refused before any RPC runs.
          // A bidi stream over HTTP/1.1 is refused as 505 (it needs HTTP/2).
          const spoken = [...both, ...(r.method.kind === "unary" ? unary : streaming)];
          const h1Bidi = r.method.kind === "bidi_streaming" && r.httpVersion === "1.1";
          assert.equal(reply.status, h1Bidi ? 505 : 415, `${what}: not an RPC status: ${JSON.stringify(reply)}`);
          if (!h1Bidi) assert.ok(!spoken.includes(r.contentType), `${what}: 415 for a content type the port speaks`);
        }
        await assertUp();
      }),
      params(500),
    );
  });

  test("the call between two other users got every signal in order and ends normally", async () => {
    pumping = false;
    await pump;
    const received = async (d: Device, count: number) => {
      const out: string[] = [];
      for (let i = 0; i < count; i++) out.push((await d.next("description", (v) => v.callId === callId)).value.sdp);
      return out;
    };
    assert.ok(sent.alice.length > 0, "the call's signals ran alongside the fuzz");
    assert.deepEqual(await received(bob, sent.alice.length), sent.alice);
    assert.deepEqual(await received(alice, sent.bob.length), sent.bob);
    await alice.command("hangup", { callId });
    assert.equal((await bob.next("callEnded")).value.outcome, 1);
    assert.ok(!alice.events.some((e) => e.case === "callEnded" && e.value.outcome !== 1));
  });
});
