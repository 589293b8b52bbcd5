import { create } from "@bufbuild/protobuf";
import {
  type ConnectRequest,
  type ConnectResponse,
  ConnectResponseSchema,
  type ServerEvent,
} from "../../../gen/calldrop/v1/signal_pb.js";
import { peerDevice } from "./payload.ts";

/** One device's stream as the hub sees it. */
export type RelaySession = {
  /** Handles one client message: `hello` registers, description/ICE is relayed to the peer device. */
  receive(request: ConnectRequest): void;
  /** Unregisters the device (stream ended or failed). */
  close(): void;
};

/** The minimal relay both gRPC servers share, so they differ only in their transport stack. */
export type RelayHub = {
  open(send: (response: ConnectResponse) => void): RelaySession;
  readonly size: number;
};

/**
 * Creates a relay: a device says hello (device_id `pN.a` or `pN.b`), gets SessionReady, and every
 * SessionDescription / IceCandidate it sends reaches the other side of its pair as a ServerEvent
 * with that device's next `seq`. A message for an absent peer comes back as a CommandError.
 */
export function createRelayHub(nowMs: () => number): RelayHub {
  const devices = new Map<string, { send: (r: ConnectResponse) => void; seq: bigint }>();
  const emit = (target: { send: (r: ConnectResponse) => void; seq: bigint }, kind: ServerEvent["kind"]) => {
    target.seq += 1n;
    target.send(create(ConnectResponseSchema, { event: { seq: target.seq, sentAtMs: BigInt(nowMs()), kind } }));
  };

  return {
    get size() {
      return devices.size;
    },
    open(send) {
      const self = { send, seq: 0n };
      let deviceId: string | undefined;
      return {
        receive(request) {
          const message = request.message;
          const kind = message?.kind;
          if (!message || !kind) return;
          if (kind.case === "hello") {
            deviceId = kind.value.deviceId;
            devices.set(deviceId, self);
            emit(self, {
              case: "sessionReady",
              value: {
                $typeName: "calldrop.v1.SessionReady",
                sessionId: deviceId,
                resumeToken: "",
                resumed: false,
                resumeGraceMs: 0,
                userId: deviceId,
                deviceId,
              },
            });
            return;
          }
          if (kind.case !== "description" && kind.case !== "iceCandidate") return;
          const peer = deviceId === undefined ? undefined : devices.get(peerDevice(deviceId) ?? "");
          if (peer) emit(peer, kind);
          else
            emit(self, {
              case: "error",
              value: {
                $typeName: "calldrop.v1.CommandError",
                commandId: message.commandId,
                code: "not_found",
                message: "peer not connected",
              },
            });
        },
        close() {
          if (deviceId !== undefined && devices.get(deviceId) === self) devices.delete(deviceId);
        },
      };
    },
  };
}
