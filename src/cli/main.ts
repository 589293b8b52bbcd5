/**
 * A small terminal client for trying the service by hand (and a reference for app
 * developers): it speaks gRPC over HTTP/2 on the bidi `Connect` stream, like a
 * mobile app, using a dev token from the local server.
 *
 *   npm run cli -- --server http://127.0.0.1:8080 --user bob answer
 *   npm run cli -- --server http://127.0.0.1:8080 --user alice call bob
 *   npm run cli -- --server http://127.0.0.1:8080 --user alice history
 */
import { toJson } from "@bufbuild/protobuf";
import { ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { CallOutcome } from "../../gen/calldrop/v1/call_pb.js";
import { CallHistoryService } from "../../gen/calldrop/v1/history_pb.js";
import { SdpType, ServerEventSchema, SignalService } from "../../gen/calldrop/v1/signal_pb.js";
import { parseCliArgs, usage } from "./args.ts";
import { historyLine } from "./history-line.ts";
import { createOutbox } from "./outbox.ts";

const parsed = parseCliArgs(process.argv.slice(2));
if (parsed.kind === "help") {
  process.stdout.write(usage);
  process.exit(0);
}
if (parsed.kind === "error") {
  process.stderr.write(`cli: ${parsed.message}\n${usage}`);
  process.exit(2);
}
const { args } = parsed;
const { user, command } = args;
const fail = (why: string): never => {
  process.stderr.write(`cli: ${why}\n`);
  process.exit(1);
};
// Every failure from here on (server down, refused token, an RPC error) is one line, not a stack trace.
const failOn = (err: unknown) => fail(err instanceof ConnectError ? err.message : String(err));
process.on("uncaughtException", failOn);
process.on("unhandledRejection", failOn);

const res = await fetch(`${args.server}/dev/token?user=${encodeURIComponent(user)}`).catch((err: unknown) =>
  fail(`cannot reach ${args.server}: ${err instanceof Error && err.cause ? String(err.cause) : String(err)}`),
);
if (!res.ok) fail(`dev token: ${res.status} ${await res.text()}`);
const { token } = (await res.json()) as { token: string };
const transport = createGrpcTransport({ baseUrl: args.server });
const headers = { authorization: `Bearer ${token}` };
const say = (line: string) => process.stdout.write(`[${user}] ${line}\n`);

if (command.name === "history") {
  const { calls } = await createClient(CallHistoryService, transport).listCalls({ pageSize: 10 }, { headers });
  for (const c of calls) say(historyLine(c, user));
  if (calls.length === 0) say("no calls yet");
  process.exit(0);
}
const peer = command.name === "call" ? command.peer : undefined;

const outbox = createOutbox(user);
const send = outbox.send;
send({
  case: "hello",
  value: { $typeName: "calldrop.v1.Hello", deviceId: args.device, resumeToken: "", lastSeq: 0n },
});

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

const stream = createClient(SignalService, transport).connect(outbox.requests(), { headers });
events: for await (const { event } of stream) {
  const k = event?.kind;
  if (!event || !k?.case || k.case === "commandResult") continue;
  // The proto JSON form: enum names, not numbers (`"outcome":"CALL_OUTCOME_MISSED"`).
  const json = toJson(ServerEventSchema, event) as Record<string, unknown>;
  const fields = JSON.stringify(json[k.case] ?? {});
  say(`#${event.seq} ${k.case} ${fields.length > 160 ? `${fields.slice(0, 157)}...` : fields}`);
  switch (k.case) {
    case "sessionReady":
      if (peer)
        send({
          case: "startCall",
          value: { $typeName: "calldrop.v1.StartCall", calleeUserId: peer, video: true },
        });
      else say("waiting for a call…");
      break;
    case "incomingCall":
      send({ case: "accept", value: { $typeName: "calldrop.v1.Accept", callId: k.value.callId } });
      break;
    case "callAccepted":
      if (peer) {
        description(k.value.callId, SdpType.OFFER);
        for (let n = 0; n < 3; n++) fakeCandidate(k.value.callId, n);
        const callId = k.value.callId;
        setTimeout(
          () => send({ case: "hangup", value: { $typeName: "calldrop.v1.Hangup", callId, reason: 1 } }),
          args.seconds * 1000,
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
      say(`call ended: ${(CallOutcome[k.value.outcome] ?? k.value.outcome).toString().toLowerCase()}`);
      outbox.close();
      break events;
  }
}
process.exit(0);
