import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { ConnectRequestSchema, SignalService } from "../../../gen/calldrop/v1/signal_pb.js";
import { grpcServiceDefinition } from "./grpc-definition.ts";

describe("grpcServiceDefinition", () => {
  it("maps SignalService.Connect to a bidi method with protobuf-es codecs", () => {
    const connect = grpcServiceDefinition(SignalService).connect;
    assert.ok(connect);
    assert.equal(connect.path, "/calldrop.v1.SignalService/Connect");
    assert.equal(connect.requestStream, true);
    assert.equal(connect.responseStream, true);
    const msg = create(ConnectRequestSchema, {
      message: { commandId: "x1", kind: { case: "ping", value: { $typeName: "calldrop.v1.Ping", nonce: 7n } } },
    });
    const back = connect.requestDeserialize(connect.requestSerialize(msg)) as typeof msg;
    assert.equal(back.message?.commandId, "x1");
    assert.equal(back.message?.kind.case === "ping" && back.message.kind.value.nonce, 7n);
  });

  it("marks unary and server-streaming methods", () => {
    const def = grpcServiceDefinition(SignalService);
    assert.deepEqual([def.send?.requestStream, def.send?.responseStream], [false, false]);
    assert.deepEqual([def.subscribe?.requestStream, def.subscribe?.responseStream], [false, true]);
  });
});
