/**
 * Bad input (docs/spec.md §4, §9): each gets a clear Connect/gRPC code and message,
 * never a crash, and the server keeps serving everyone else.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { SignalService } from "../gen/calldrop/v1/signal_pb.js";
import {
  CommandFailed,
  type Device,
  historyClient,
  mobileDevice,
  rawGrpcSignalClient,
  webDevice,
} from "./support/devices.ts";
import { sendRaw } from "./support/raw-rpc.ts";
import { type ServerProcess, startServer } from "./support/server-process.ts";
import { waitFor } from "./support/wait-for.ts";

let server: ServerProcess;
before(async () => {
  server = await startServer({
    CALLDROP_CALLS__MAX_CANDIDATES_PER_CALL: "5",
    CALLDROP_LIMITS__MESSAGES_BURST: "50",
    // Refills slower than any machine sends, so the flood test counts the burst, not the CPU's speed.
    CALLDROP_LIMITS__MESSAGES_PER_SECOND: "0.1",
    CALLDROP_ICE__TURN_URLS: JSON.stringify(["turn:127.0.0.1:3478"]),
    CALLDROP_ICE__TURN_SECRET: JSON.stringify("turn-secret"),
  });
});
after(async () => {
  await server.stop();
});

let n = 0;
const user = (name: string) => `${name}-${++n}`;
const unknownCallId = "0190f3a2-0000-7000-8000-000000000000";

async function device(kind: "mobile" | "web", userId = user(kind)): Promise<Device> {
  const open = kind === "mobile" ? mobileDevice : webDevice;
  return open({ baseUrl: server.baseUrl, token: await server.token(userId), userId, deviceId: "d1" });
}

async function answeredCall(): Promise<{ alice: Device; bob: Device; callId: string }> {
  const alice = await device("mobile");
  const bob = await device("web");
  const { callId } = await alice.command("startCall", { calleeUserId: bob.userId });
  await bob.next("incomingCall");
  await bob.command("accept", { callId });
  return { alice, bob, callId };
}

const rejectsWith = (p: Promise<unknown>, code: string, message?: RegExp) =>
  assert.rejects(p, (err: CommandFailed) => {
    assert.ok(err instanceof CommandFailed, String(err));
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });

describe("signaling input", () => {
  for (const kind of ["mobile", "web"] as const) {
    test(`${kind}: oversize SDP (> 64 KiB) is invalid_argument and the call goes on`, async () => {
      const { alice, bob, callId } = await answeredCall();
      const caller = kind === "mobile" ? alice : bob;
      await rejectsWith(
        caller.command("description", { callId, type: 1, sdp: "a".repeat(65 * 1024) }),
        "invalid_argument",
        /64 KiB/,
      );
      await caller.command("description", { callId, type: 1, sdp: "v=0 small" });
      alice.drop();
      bob.drop();
    });
  }

  for (const kind of ["mobile", "web"] as const) {
    test(`${kind}: resend_of only on a signal and well-formed; a resend reaches the peer under its first id`, async () => {
      const { alice, bob, callId } = await answeredCall();
      const sender = kind === "mobile" ? alice : bob;
      const receiver = kind === "mobile" ? bob : alice;
      await rejectsWith(
        sender.command("hangup", { callId }, undefined, "cmd-earlier"),
        "invalid_argument",
        /resend_of is only for description, ice_candidate and ice_restart/,
      );
      await rejectsWith(
        sender.command(
          "iceCandidate",
          { callId, candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host" },
          undefined,
          "x".repeat(129),
        ),
        "invalid_argument",
        /resend_of must be 1–128 printable ASCII characters/,
      );
      const candidate = { callId, candidate: "candidate:2 1 udp 1 127.0.0.1 9 typ host", sdpMid: "0" };
      await sender.command("iceCandidate", candidate, "cmd-first");
      await receiver.next("iceCandidate");
      await sender.command("iceCandidate", candidate, "cmd-again", "cmd-first");
      await sender.command("iceCandidate", { ...candidate, candidate: "candidate:3 1 udp 1 127.0.0.1 9 typ host" });
      await receiver.next("iceCandidate");
      assert.equal(receiver.repeats(), 1, "the resend came under the first id and was dropped as a repeat");
      await sender.command("hangup", { callId }); // the call was still up: nothing was refused but the bad input
      alice.drop();
      bob.drop();
    });
  }

  test("a message larger than the transport limit is resource_exhausted", async () => {
    const { alice, bob, callId } = await answeredCall();
    await rejectsWith(
      bob.command("description", { callId, type: 1, sdp: "a".repeat(300 * 1024) }),
      "resource_exhausted",
    );
    alice.drop();
    bob.drop();
  });

  test("gRPC-Web over HTTP/1.1: an oversize request does not stall the kept-alive connection for the next ones", async () => {
    // Found by test/fuzz.test.ts: the server stopped reading the body and kept the connection alive.
    const transport = createGrpcWebTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" });
    const client = createClient(SignalService, transport);
    const headers = { authorization: `Bearer ${await server.token(user("web"))}` };
    const send = (candidate: string) =>
      client.send(
        {
          sessionId: "none",
          message: { commandId: "c1", kind: { case: "iceCandidate", value: { callId: unknownCallId, candidate } } },
        },
        { headers, timeoutMs: 3000 },
      );
    for (const [candidate, code] of [
      ["a".repeat(300 * 1024), Code.ResourceExhausted],
      ["a".repeat(300 * 1024), Code.ResourceExhausted],
      ["candidate:1", Code.NotFound],
    ] as const) {
      await assert.rejects(send(candidate), (err) => ConnectError.from(err).code === code);
    }
  });

  test("a non-participant sending ICE is permission_denied", async () => {
    const { alice, bob, callId } = await answeredCall();
    for (const kind of ["mobile", "web"] as const) {
      const mallory = await device(kind);
      await rejectsWith(mallory.command("iceCandidate", { callId, candidate: "candidate:x" }), "permission_denied");
      await rejectsWith(mallory.command("hangup", { callId }), "permission_denied");
      mallory.drop();
    }
    assert.ok(!alice.events.some((e) => e.case === "callEnded"));
    alice.drop();
    bob.drop();
  });

  test("malformed and unknown call ids", async () => {
    const d = await device("web");
    await rejectsWith(d.command("accept", { callId: "not-a-call" }), "invalid_argument", /call_id/);
    await rejectsWith(d.command("accept", { callId: unknownCallId }), "not_found");
    const m = await device("mobile");
    await rejectsWith(m.command("iceCandidate", { callId: "", candidate: "candidate:x" }), "invalid_argument");
    await rejectsWith(m.command("hangup", { callId: unknownCallId }), "not_found");
    d.drop();
    m.drop();
  });

  test("malformed commands: no kind, bad ids, calling yourself, empty candidate", async () => {
    const d = await device("mobile");
    await rejectsWith(d.command("startCall", { calleeUserId: "bad user!" }), "invalid_argument", /callee_user_id/);
    await rejectsWith(d.command("startCall", { calleeUserId: d.userId }), "invalid_argument", /yourself/);
    await rejectsWith(d.command("ping", {}, ""), "invalid_argument", /command_id/);
    const { alice, bob, callId } = await answeredCall();
    await rejectsWith(
      alice.command("iceCandidate", { callId, candidate: "" }),
      "invalid_argument",
      /end_of_candidates/,
    );
    await rejectsWith(alice.command("description", { callId, sdp: "v=0" }), "invalid_argument", /type/);
    for (const x of [d, alice, bob]) x.drop();
  });

  test("too many ICE candidates is resource_exhausted", async () => {
    const { alice, bob, callId } = await answeredCall();
    for (let i = 0; i < 5; i++) await alice.command("iceCandidate", { callId, candidate: `candidate:${i}` });
    await rejectsWith(
      alice.command("iceCandidate", { callId, candidate: "candidate:6" }),
      "resource_exhausted",
      /candidates/,
    );
    alice.drop();
    bob.drop();
  });

  test("a flood over the rate limit is resource_exhausted while others are served", async () => {
    const flooder = await device("web");
    const results = await Promise.allSettled(
      Array.from({ length: 120 }, (_, i) => flooder.command("ping", { nonce: i })),
    );
    const limited = results.filter(
      (r) => r.status === "rejected" && (r.reason as CommandFailed).code === "resource_exhausted",
    );
    assert.ok(limited.length >= 60, `only ${limited.length} of 120 were limited (burst 50)`);
    const { alice, bob, callId } = await answeredCall();
    await alice.command("hangup", { callId });
    assert.equal((await bob.next("callEnded")).value.outcome, 1);
    for (const x of [flooder, alice, bob]) x.drop();
  });

  test("Send to an unknown or someone else's session is not_found", async () => {
    const victim = await device("web");
    const attacker = await device("web");
    Object.assign(attacker.session, { id: victim.session.id });
    await rejectsWith(attacker.command("ping", { nonce: 1 }), "not_found", /session/);
    Object.assign(attacker.session, { id: "nope" });
    await rejectsWith(attacker.command("ping", { nonce: 1 }), "not_found");
    victim.drop();
    attacker.drop();
  });

  test("a bidi stream whose first message is not hello is invalid_argument", async () => {
    const client = rawGrpcSignalClient(server.baseUrl);
    const md = new grpc.Metadata();
    md.set("authorization", `Bearer ${await server.token("gina")}`);
    const call = client.Connect(md);
    const status = await new Promise<grpc.ServiceError>((resolve) => {
      call.on("error", resolve);
      call.on("data", () => {});
      call.write({ message: { commandId: "c1", ping: { nonce: 1 } } });
    });
    assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
    assert.match(status.details, /hello/);
    client.close();
  });
});

describe("GetIceServers", () => {
  /** GetIceServers over gRPC (grpc-js, as mobile apps), Connect and gRPC-Web; resolves with the TURN username. */
  function iceClients(token: string): Record<"grpc" | "connect" | "grpcWeb", (callId: string) => Promise<string>> {
    const headers = { authorization: `Bearer ${token}` };
    const over = (transport: Parameters<typeof createClient>[1]) => async (callId: string) => {
      try {
        return (await createClient(SignalService, transport).getIceServers({ callId }, { headers })).iceServers[0]
          ?.username as string;
      } catch (err) {
        const ce = ConnectError.from(err);
        throw new CommandFailed(Code[ce.code].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase(), ce.rawMessage);
      }
    };
    return {
      grpc: (callId) =>
        new Promise((resolve, reject) => {
          const client = rawGrpcSignalClient(server.baseUrl);
          const md = new grpc.Metadata();
          md.set("authorization", headers.authorization);
          client.GetIceServers(
            { callId },
            md,
            (err: grpc.ServiceError | null, res: { iceServers: { username: string }[] }) => {
              client.close();
              if (err) reject(new CommandFailed(String(grpc.status[err.code]).toLowerCase(), err.details));
              else resolve(res.iceServers[0]?.username as string);
            },
          );
        }),
      connect: over(createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" })),
      grpcWeb: over(createGrpcWebTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" })),
    };
  }

  test("credentials only for the caller's own call (or none), with a clean TURN username, on every transport", async () => {
    const { alice, bob, callId } = await answeredCall();
    const mallory = user("mallory");
    const clients = {
      alice: iceClients(await server.token(alice.userId)),
      bob: iceClients(await server.token(bob.userId)),
      mallory: iceClients(await server.token(mallory)),
    };
    for (const transport of ["grpc", "connect", "grpcWeb"] as const) {
      const what = (s: string) => `${transport}: ${s}`;
      const refused = async (p: Promise<string>, code: string, message: RegExp, s: string) =>
        assert.rejects(p, (err: CommandFailed) => {
          assert.ok(err instanceof CommandFailed, what(`${s}: ${err}`));
          assert.equal(err.code, code, what(`${s}: ${err.message}`));
          assert.match(err.message, message, what(s));
          return true;
        });
      assert.match(await clients.alice[transport](callId), new RegExp(`^\\d+:${callId}$`), what("the caller"));
      assert.match(await clients.bob[transport](callId), new RegExp(`^\\d+:${callId}$`), what("the callee"));
      assert.match(await clients.mallory[transport](""), new RegExp(`^\\d+:${mallory}$`), what("user-scoped"));
      await refused(clients.mallory[transport](callId), "permission_denied", /not a participant/, "another's call");
      await refused(clients.alice[transport](unknownCallId), "not_found", /no such call/, "an unknown call");
      for (const bad of ["../../../etc/passwd", "a\u0000b", "x".repeat(10_000), "1:2:3", `${callId}:x`]) {
        await refused(clients.alice[transport](bad), "invalid_argument", /call_id is malformed/, bad.slice(0, 20));
      }
    }
    await alice.command("hangup", { callId });
    assert.equal((await bob.next("callEnded")).value.outcome, 1, "the call was untouched by all of it");
    alice.drop();
    bob.drop();
  });
});

describe("authentication", () => {
  test("missing, invalid and expired tokens are unauthenticated, on every transport", async () => {
    const expired = await server.token("henry", -60);
    const forged = `${(await server.token("henry")).slice(0, -4)}AAAA`;
    for (const token of [expired, forged, "garbage"]) {
      for (const open of [mobileDevice, webDevice]) {
        await rejectsWith(open({ baseUrl: server.baseUrl, token, userId: "henry", deviceId: "d1" }), "unauthenticated");
      }
      await assert.rejects(historyClient(server.baseUrl, token).list(), /unauthenticated/);
    }
    await assert.rejects(historyClient(server.baseUrl, expired).list(), /token expired/);
  });

  test("a stream whose token expires is ended with unauthenticated", async () => {
    const token = await server.token("ivy", 2);
    const d = await webDevice({ baseUrl: server.baseUrl, token, userId: "ivy", deviceId: "d1" });
    const ended = await waitFor(() => d.streamError(), { what: "the stream ended at the token's expiry" });
    assert.equal(ended.code, "unauthenticated");
    assert.match(ended.message, /expired/);
  });
});

describe("history access", () => {
  test("users read only their own calls; bad page tokens and sizes are invalid_argument", async () => {
    const { alice, bob, callId } = await answeredCall();
    await alice.command("hangup", { callId });
    const outsider = historyClient(server.baseUrl, await server.token("outsider"));
    await assert.rejects(outsider.get(callId), /not_found/);
    await assert.rejects(outsider.get("bad-id"), /invalid_argument/);
    await assert.rejects(outsider.list({ pageToken: "!!" }), /invalid_argument/);
    await assert.rejects(outsider.list({ pageSize: 1000 }), /invalid_argument/);
    assert.equal((await outsider.list()).calls.length, 0);
    assert.equal((await historyClient(server.baseUrl, await server.token(bob.userId)).get(callId)).callId, callId);
    alice.drop();
    bob.drop();
  });
});

/** The frame of a length-prefixed protocol: flags, 4-byte big-endian length, data. */
const frame = (data: Uint8Array, flags = 0) => {
  const out = new Uint8Array(5 + data.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, data.length);
  out.set(data, 5);
  return out;
};
/** Field 1 (length-delimited) announces 5 bytes and ends after 1: no message parses from it. */
const notProtobuf = Uint8Array.from([0x0a, 0x05, 0x01]);
const undecodable = {
  "malformed protobuf": frame(notProtobuf),
  "truncated frame": frame(Uint8Array.from([0x08, 0x01])).subarray(0, 6),
  "compressed flag without an encoding": frame(Uint8Array.from([0x08, 0x01]), 1),
  "no frame at all": new Uint8Array(0),
};

async function handledTotal(baseUrl: string, method: string, code: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text
    .split("\n")
    .find(
      (l) =>
        l.startsWith("calldrop_rpc_handled_total{") && l.includes(`method="${method}"`) && l.includes(`code="${code}"`),
    );
  return line ? Number(line.split(" ").at(-1)) : 0;
}

for (const engine of ["grpc-js", "connect-node"] as const) {
  describe(`requests that do not decode, HTTP/2 engine ${engine}`, () => {
    // A client's broken bytes are its fault: invalid_argument, never internal (a 5xx that pages
    // on-call) nor unimplemented, and counted as such, whatever the protocol, RPC kind or engine.
    let own: ServerProcess;
    before(async () => {
      own = await startServer({ CALLDROP_SERVER__HTTP2_ENGINE: engine });
    });
    after(() => own?.stop());

    const rpcs = [
      { method: "Send", kind: "unary" },
      { method: "Subscribe", kind: "server_streaming" },
      { method: "Connect", kind: "bidi_streaming" },
    ] as const;
    const protocols = [
      { contentType: "application/grpc", versions: ["2"], framed: true },
      { contentType: "application/grpc-web+proto", versions: ["1.1", "2"], framed: true },
      { contentType: "application/connect+proto", versions: ["1.1", "2"], framed: true, streaming: true },
      { contentType: "application/proto", versions: ["1.1", "2"], framed: false, unary: true },
    ] as const;
    for (const { method, kind } of rpcs) {
      test(`${method} (${kind}): invalid_argument with a message on every protocol, counted as invalid_argument`, async () => {
        const token = `Bearer ${await own.token(user("undecodable"))}`;
        const before = {
          invalid: await handledTotal(own.baseUrl, method, "invalid_argument"),
          internal: await handledTotal(own.baseUrl, method, "internal"),
          unimplemented: await handledTotal(own.baseUrl, method, "unimplemented"),
        };
        let sent = 0;
        for (const p of protocols) {
          if ("unary" in p && kind !== "unary") continue;
          if ("streaming" in p && kind === "unary") continue;
          for (const httpVersion of p.versions) {
            if (kind === "bidi_streaming" && httpVersion === "1.1") continue;
            const bodies = p.framed ? Object.entries(undecodable) : [["malformed protobuf", notProtobuf] as const];
            for (const [what, body] of bodies) {
              const reply = await sendRaw(
                {
                  httpVersion,
                  path: `/calldrop.v1.SignalService/${method}`,
                  contentType: p.contentType,
                  authorization: token,
                  body,
                },
                own.port,
              );
              const where = `${what} as ${p.contentType} over HTTP/${httpVersion}`;
              assert.equal(reply.kind, "rpc", `${where}: ${JSON.stringify(reply)}`);
              if (reply.kind !== "rpc") continue;
              assert.equal(Code[reply.code], Code[Code.InvalidArgument], `${where}: ${reply.message}`);
              assert.ok(reply.message.trim().length > 0, `${where}: no message`);
              sent++;
            }
          }
        }
        assert.equal(await handledTotal(own.baseUrl, method, "invalid_argument"), before.invalid + sent);
        assert.equal(await handledTotal(own.baseUrl, method, "internal"), before.internal);
        assert.equal(await handledTotal(own.baseUrl, method, "unimplemented"), before.unimplemented);
      });
    }
  });
}
