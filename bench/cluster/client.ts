/**
 * A lean mobile client for the cluster bench: one grpc-js bidi `Connect` stream with
 * the generated protobuf-es codec (no per-event bookkeeping that would cap the rate).
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Client, credentials, Metadata } from "@grpc/grpc-js";
import {
  type ClientMessage,
  type ConnectRequest,
  ConnectRequestSchema,
  type ConnectResponse,
  ConnectResponseSchema,
  type ServerEvent,
} from "../../gen/calldrop/v1/signal_pb.js";

/** A connected bench device. */
export interface BenchDevice {
  readonly userId: string;
  /** Sends one command. */
  send(kind: ClientMessage["kind"]): void;
  /** Calls `fn` for every server event. */
  onEvent(fn: (event: ServerEvent) => void): void;
  /** Resolves with the first event matching `where`. */
  next(where: (event: ServerEvent) => boolean): Promise<ServerEvent>;
  close(): void;
}

let ids = 0;

/** Opens a device's stream on `address` (host:port) and waits for session_ready. */
export async function openDevice(address: string, token: string, userId: string, deviceId: string) {
  const client = new Client(address, credentials.createInsecure());
  const md = new Metadata();
  md.set("authorization", `Bearer ${token}`);
  const call = client.makeBidiStreamRequest<ConnectRequest, ConnectResponse>(
    "/calldrop.v1.SignalService/Connect",
    (m) => Buffer.from(toBinary(ConnectRequestSchema, m)),
    (b) => fromBinary(ConnectResponseSchema, b),
    md,
  );
  const listeners = new Set<(e: ServerEvent) => void>();
  call.on("data", (r: ConnectResponse) => {
    if (r.event) for (const l of listeners) l(r.event);
  });
  call.on("error", () => {});
  const write = (kind: ClientMessage["kind"]) =>
    call.write(create(ConnectRequestSchema, { message: { commandId: `b${++ids}`, kind } }));
  const device: BenchDevice = {
    userId,
    send: write,
    onEvent: (fn) => listeners.add(fn),
    next: (where) =>
      new Promise((resolve) => {
        const l = (e: ServerEvent) => {
          if (!where(e)) return;
          listeners.delete(l);
          resolve(e);
        };
        listeners.add(l);
      }),
    close() {
      call.cancel();
      client.close();
    },
  };
  const ready = device.next((e) => e.kind.case === "sessionReady");
  write({ case: "hello", value: { $typeName: "calldrop.v1.Hello", deviceId, resumeToken: "", lastSeq: 0n } });
  await ready;
  return device;
}

/** `caller` calls `callee`, who accepts; resolves with the call id. */
export async function connectCall(caller: BenchDevice, callee: BenchDevice): Promise<string> {
  const incoming = callee.next((e) => e.kind.case === "incomingCall");
  caller.send({
    case: "startCall",
    value: { $typeName: "calldrop.v1.StartCall", calleeUserId: callee.userId, video: true },
  });
  const ring = await incoming;
  const callId = ring.kind.case === "incomingCall" ? ring.kind.value.callId : "";
  const accepted = caller.next((e) => e.kind.case === "callAccepted");
  callee.send({ case: "accept", value: { $typeName: "calldrop.v1.Accept", callId } });
  await accepted;
  return callId;
}

/** An ICE candidate command whose candidate carries `tag`. */
export function candidate(callId: string, tag: string): ClientMessage["kind"] {
  return {
    case: "iceCandidate",
    value: {
      $typeName: "calldrop.v1.IceCandidate",
      callId,
      candidate: `candidate:${tag} 1 udp 2122260223 10.0.0.1 50000 typ host`,
      sdpMid: "0",
      sdpMLineIndex: 0,
      usernameFragment: "bench",
      endOfCandidates: false,
    },
  };
}

/** The tag of a received ICE candidate event, or undefined. */
export function tagOf(e: ServerEvent): string | undefined {
  return e.kind.case === "iceCandidate" ? e.kind.value.candidate.split(" ")[0]?.slice("candidate:".length) : undefined;
}
