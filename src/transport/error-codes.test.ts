/** The request-decoding errors of connect-es, as error-codes.ts recognises them (pinned: an upgrade that rewords them fails here). */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  Code,
  ConnectError,
  createContextValues,
  createHandlerContext,
  createMethodImplSpec,
} from "@connectrpc/connect";
import {
  createAsyncIterable,
  createMethodSerializationLookup,
  envelopeDecompress,
  transformInvokeImplementation,
} from "@connectrpc/connect/protocol";
import { SignalService } from "../../gen/calldrop/v1/signal_pb.js";
import { asDecodingError } from "./error-codes.ts";

const method = SignalService.method.getIceServers;
const limits = { readMaxBytes: 1024, writeMaxBytes: 1024 };

async function thrown(run: () => unknown): Promise<ConnectError> {
  try {
    await run();
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("did not throw");
}

function invoke(messages: unknown[]) {
  const spec = createMethodImplSpec(method, () => ({ iceServers: [] }));
  const context = createHandlerContext({
    service: SignalService,
    method,
    protocolName: "test",
    requestMethod: "POST",
    url: "/",
    contextValues: createContextValues(),
  });
  return async () => {
    for await (const _ of transformInvokeImplementation(spec, context, [])(createAsyncIterable(messages as never[])));
  };
}

describe("request-decoding errors of connect-es", () => {
  const cases = {
    "bytes that are not the message": () =>
      createMethodSerializationLookup(method, undefined, undefined, limits)
        .getI(true)
        .parse(Uint8Array.from([0x0a, 5, 1])),
    "a compressed frame without an encoding": () =>
      envelopeDecompress({ flags: 1, data: new Uint8Array(1) }, null, 1024),
    "no request message": invoke([]),
    "two request messages": invoke([{}, {}]),
  };
  for (const [what, run] of Object.entries(cases)) {
    test(`${what}: invalid_argument, with connect-es's reason`, async () => {
      const err = await thrown(run);
      assert.notEqual(err.code, Code.InvalidArgument, "connect-es still reports it as a server fault");
      const mapped = asDecodingError(err);
      assert.equal(mapped?.code, Code.InvalidArgument, err.rawMessage);
      assert.match(mapped.rawMessage, /^malformed request: /);
    });
  }

  test("other errors are left alone", () => {
    assert.equal(asDecodingError(new ConnectError("internal error", Code.Internal)), undefined);
    assert.equal(asDecodingError(new ConnectError("parse binary: x", Code.NotFound)), undefined);
  });
});
