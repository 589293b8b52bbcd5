/**
 * A small terminal client for trying the service by hand (and a reference for app
 * developers): it speaks gRPC over HTTP/2 on the bidi `Connect` stream, like a
 * mobile app, using a dev token from the local server.
 *
 *   npm run cli -- --server http://127.0.0.1:8080 --user bob answer
 *   npm run cli -- --server http://127.0.0.1:8080 --user alice call bob
 *   npm run cli -- --server http://127.0.0.1:8080 --user alice history
 */
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { CallOutcome } from "../../gen/calldrop/v1/call_pb.js";
import { CallHistoryService } from "../../gen/calldrop/v1/history_pb.js";
import {
  type ClientMessage,
  ClientMessageSchema,
  type ConnectRequest,
  SdpType,
  SignalService,
} from "../../gen/calldrop/v1/signal_pb.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    server: { type: "string", default: "http://127.0.0.1:8080" },
    user: { type: "string" },
    device: { type: "string", default: "cli" },
    seconds: { type: "string", default: "5" },
  },
});
const [command, peer] = positionals;
if (!values.user || !["call", "answer", "history"].includes(command ?? "") || (command === "call" && !peer)) {
  process.stderr.write("usage: cli --server URL --user ID (call PEER | answer | history)\n");
  process.exit(2);
}
const user = values.user;

const res = await fetch(`${values.server}/dev/token?user=${encodeURIComponent(user)}`);
if (!res.ok) throw new Error(`dev token: ${res.status} ${await res.text()}`);
const { token } = (await res.json()) as { token: string };
const transport = createGrpcTransport({ baseUrl: values.server });
const headers = { authorization: `Bearer ${token}` };
const say = (line: string) => process.stdout.write(`[${user}] ${line}\n`);

if (command === "history") {
  const { calls } = await createClient(CallHistoryService, transport).listCalls({ pageSize: 10 }, { headers });
  for (const c of calls) {
    const who = c.callerUserId === user ? `→ ${c.calleeUserId}` : `← ${c.callerUserId}`;
    say(`${c.startedAt?.seconds ?? "?"} ${who} ${CallOutcome[c.outcome]} ${c.durationMs} ms`);
  }
  process.exit(0);
}

/** Outgoing messages: an async queue feeding the request stream. */
const outgoing: ConnectRequest[] = [];
let wake: (() => void) | undefined;
let ended = false;
let ids = 0;
function send(kind: ClientMessage["kind"]): void {
  const message = create(ClientMessageSchema, { commandId: `${user}-${Date.now()}-${++ids}`, kind });
  outgoing.push({ $typeName: "calldrop.v1.ConnectRequest", message });
  wake?.();
}
async function* requests(): AsyncGenerator<ConnectRequest> {
  send({
    case: "hello",
    value: { $typeName: "calldrop.v1.Hello", deviceId: values.device, resumeToken: "", lastSeq: 0n },
  });
  while (!ended) {
    const next = outgoing.shift();
    if (next) yield next;
    else await new Promise<void>((resolve) => (wake = resolve));
  }
}

const fakeCandidate = (callId: string, n: number) =>
  send({
    case: "iceCandidate",
    value: {
      $typeName: "calldrop.v1.IceCandidate",
      callId,
      candidate: `candidate:${n} 1 udp 2122260223 127.0.0.1 ${40000 + n} typ host`,
      sdpMid: "0",
      sdpMLineIndex: 0,
      usernameFragment: "",
      endOfCandidates: false,
    },
  });
const description = (callId: string, type: SdpType) =>
  send({
    case: "description",
    value: { $typeName: "calldrop.v1.SessionDescription", callId, type, sdp: `v=0\r\ns=cli ${SdpType[type]}\r\n` },
  });

const stream = createClient(SignalService, transport).connect(requests(), { headers });
for await (const { event } of stream) {
  const k = event?.kind;
  if (!event || !k?.case || k.case === "commandResult") continue;
  const fields = JSON.stringify(k.value, (key, v) =>
    key === "$typeName" ? undefined : typeof v === "bigint" ? Number(v) : v,
  );
  say(`#${event.seq} ${k.case} ${fields.length > 160 ? `${fields.slice(0, 157)}...` : fields}`);
  switch (k.case) {
    case "sessionReady":
      if (command === "call")
        send({
          case: "startCall",
          value: { $typeName: "calldrop.v1.StartCall", calleeUserId: peer as string, video: true },
        });
      else say("waiting for a call…");
      break;
    case "incomingCall":
      send({ case: "accept", value: { $typeName: "calldrop.v1.Accept", callId: k.value.callId } });
      break;
    case "callAccepted":
      if (command === "call") {
        description(k.value.callId, SdpType.OFFER);
        for (let n = 0; n < 3; n++) fakeCandidate(k.value.callId, n);
        const callId = k.value.callId;
        setTimeout(
          () => send({ case: "hangup", value: { $typeName: "calldrop.v1.Hangup", callId, reason: 1 } }),
          Number(values.seconds) * 1000,
        );
      }
      break;
    case "description":
      if (k.value.type === SdpType.OFFER) {
        description(k.value.callId, SdpType.ANSWER);
        for (let n = 0; n < 3; n++) fakeCandidate(k.value.callId, 10 + n);
      }
      break;
    case "callEnded":
      say(`call ended: ${CallOutcome[k.value.outcome]}`);
      ended = true;
      wake?.();
      break;
  }
  if (ended) break;
}
process.exit(0);
