import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { type ClientMessage, ConnectRequestSchema, type ConnectResponse } from "../../../gen/calldrop/v1/signal_pb.js";
import { createRelayHub } from "./relay-hub.ts";

const request = (kind: ClientMessage["kind"], commandId = "c") =>
  create(ConnectRequestSchema, { message: { commandId, kind } });
const hello = (deviceId: string) =>
  request({ case: "hello", value: { $typeName: "calldrop.v1.Hello", deviceId, resumeToken: "", lastSeq: 0n } });
const offer = (sdp: string) =>
  request({ case: "description", value: { $typeName: "calldrop.v1.SessionDescription", callId: "p1", type: 1, sdp } });

describe("relay hub", () => {
  it("greets, relays to the pair's other side with per-session seq, and forgets closed devices", () => {
    const hub = createRelayHub(() => 42);
    const gotA: ConnectResponse[] = [];
    const gotB: ConnectResponse[] = [];
    const a = hub.open((r) => gotA.push(r));
    const b = hub.open((r) => gotB.push(r));
    a.receive(hello("p1.a"));
    b.receive(hello("p1.b"));
    assert.equal(hub.size, 2);
    assert.equal(gotA[0]?.event?.kind.case, "sessionReady");

    a.receive(offer("sdp-1"));
    a.receive(offer("sdp-2"));
    const relayed = gotB.slice(1).map((r) => r.event);
    assert.deepEqual(
      relayed.map((e) => [e?.seq, e?.sentAtMs, e?.kind.case, e?.kind.case === "description" && e.kind.value.sdp]),
      [
        [2n, 42n, "description", "sdp-1"],
        [3n, 42n, "description", "sdp-2"],
      ],
    );

    b.close();
    assert.equal(hub.size, 1);
    a.receive(offer("sdp-3"));
    const last = gotA.at(-1)?.event?.kind;
    assert.equal(last?.case, "error");
    assert.equal(last?.case === "error" && last.value.code, "not_found");
  });
});
