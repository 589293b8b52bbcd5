import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  type ConnectRequest,
  ConnectRequestSchema,
  type ConnectResponse,
  SdpType,
  SignalService,
} from "../../../../gen/calldrop/v1/signal_pb.js";
import { grpcServiceDefinition } from "../grpc-definition.ts";
import { sdpLike } from "../payload.ts";
import { type Link, type Transport, withTimeout } from "./link.ts";

/**
 * The mobile app's view: @grpc/grpc-js client, one channel (own TCP/HTTP2 connection, as each
 * phone has) per device, one SignalService.Connect bidi stream on it.
 */
export function createGrpcTransport(port: number, sdpBytes: number): Transport {
  const method = grpcServiceDefinition(SignalService).connect;
  if (!method) throw new Error("SignalService has no connect method");
  let commands = 0;
  const request = (kind: NonNullable<ConnectRequest["message"]>["kind"]) =>
    create(ConnectRequestSchema, { message: { commandId: `c${++commands}`, kind } });

  return {
    async open({ deviceId, callId }, handlers) {
      const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
        "grpc.use_local_subchannel_pool": 1,
      });
      const call = client.makeBidiStreamRequest<ConnectRequest, ConnectResponse>(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
      );
      const sdp = sdpLike(sdpBytes, commands);
      let closing = false;
      let ready: () => void = () => undefined;
      const readyPromise = new Promise<void>((resolve) => {
        ready = resolve;
      });
      const ended = new Promise<void>((resolve) => call.on("status", () => resolve()));
      call.on("data", (response: ConnectResponse) => {
        const kind = response.event?.kind;
        if (kind?.case === "description") (kind.value.type === SdpType.OFFER ? handlers.onOffer : handlers.onAnswer)();
        else if (kind?.case === "sessionReady") ready();
        else handlers.onError(`unexpected event ${kind?.case}: ${kind?.case === "error" ? kind.value.message : ""}`);
      });
      call.on("error", (e: grpc.ServiceError) => {
        if (!closing) handlers.onError(`${deviceId}: ${e.message}`);
      });
      call.write(
        request({ case: "hello", value: { $typeName: "calldrop.v1.Hello", deviceId, resumeToken: "", lastSeq: 0n } }),
      );
      try {
        await withTimeout(readyPromise, 10_000, `${deviceId} hello`);
      } catch (e) {
        closing = true;
        call.cancel();
        client.close();
        throw e;
      }
      const describe = (type: SdpType) =>
        call.write(
          request({ case: "description", value: { $typeName: "calldrop.v1.SessionDescription", callId, type, sdp } }),
        );
      const link: Link = {
        sendOffer: () => describe(SdpType.OFFER),
        sendAnswer: () => describe(SdpType.ANSWER),
        async close() {
          closing = true;
          call.end();
          await withTimeout(ended, 5000, `${deviceId} close`).catch(() => call.cancel());
          client.close();
        },
      };
      return link;
    },
  };
}
