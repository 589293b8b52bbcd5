import { CallOutcome } from "../../../gen/calldrop/v1/call_pb.js";
import { HangupReason, SdpType } from "../../../gen/calldrop/v1/signal_pb.js";
import { connectDevice, type Device } from "../full-server/device.ts";
import { mintToken } from "../full-server/tokens.ts";
import { type Transport, withTimeout } from "../relay-transport/load/link.ts";
import { sdpLike } from "../relay-transport/payload.ts";

/**
 * The relay workload of relay-transport spoken to the full CallDrop server, the way the mobile
 * app does it: each side is its own user (JWT) on its own HTTP/2 connection; opening side A
 * (`pN.a`) starts a real call to side B, which accepts it; offers and answers are then
 * `description` commands of that call (each also answered by a command_result to its sender,
 * as the protocol requires). Closing side A hangs up.
 */
export function createCalldropTransport(port: number, sdpBytes: number): Transport {
  let opened = 0;
  // User ids unique per load generator process: a fresh process per phase never meets a call
  // the previous phase left in its resume grace period.
  const user = (deviceId: string) => `r${process.pid}.${deviceId}`;
  return {
    async open({ deviceId, peerId }, handlers) {
      const isCaller = deviceId.endsWith(".a");
      const sdp = sdpLike(sdpBytes, ++opened);
      let callId = "";
      let device: Device | undefined;
      let accepted: (() => void) | undefined;
      const acceptedPromise = new Promise<void>((resolve) => {
        accepted = resolve;
      });
      const userId = user(deviceId);
      device = await connectDevice(
        { port, token: await mintToken(userId), userId, deviceId: "phone" },
        {
          onEvent(event) {
            const k = event.kind;
            switch (k.case) {
              case "description":
                (k.value.type === SdpType.OFFER ? handlers.onOffer : handlers.onAnswer)();
                return;
              case "incomingCall":
                callId = k.value.callId;
                device?.send({ case: "accept", value: { callId } });
                return;
              case "callAccepted":
                callId = k.value.callId;
                accepted?.();
                return;
              case "error":
                handlers.onError(`${deviceId}: ${k.value.code} ${k.value.message}`);
                return;
              case "callEnded":
                // The caller hangs up when the phase closes; any other ending is a failure.
                if (k.value.outcome !== CallOutcome.COMPLETED)
                  handlers.onError(`${deviceId}: call ended (outcome ${k.value.outcome})`);
                return;
              default:
              // commandResult, ringing: expected, nothing to do
            }
          },
          onError: handlers.onError,
        },
      );
      const connected = device;
      if (isCaller) {
        connected.send({ case: "startCall", value: { calleeUserId: user(peerId), video: true } });
        try {
          await withTimeout(acceptedPromise, 15_000, `${deviceId} call setup`);
        } catch (e) {
          await connected.close();
          throw e;
        }
      }
      const describe = (type: SdpType) => connected.send({ case: "description", value: { callId, type, sdp } });
      return {
        sendOffer: () => describe(SdpType.OFFER),
        sendAnswer: () => describe(SdpType.ANSWER),
        async close() {
          if (isCaller && callId) connected.send({ case: "hangup", value: { callId, reason: HangupReason.NORMAL } });
          await connected.close();
        },
      };
    },
  };
}
