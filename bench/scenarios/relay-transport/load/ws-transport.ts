import WebSocket from "ws";
import { sdpLike } from "../payload.ts";
import { type Transport, withTimeout } from "./link.ts";

/**
 * A PeerJS client's view of the PeerJS server: one WebSocket per peer id; OFFER/ANSWER carry
 * the SDP in the payload shape the PeerJS client library sends, relayed by `dst`.
 */
export function createWsTransport(port: number, sdpBytes: number): Transport {
  let opened = 0;
  return {
    async open({ deviceId, peerId, callId }, handlers) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/peerjs?key=peerjs&id=${deviceId}&token=t${++opened}`, {
        perMessageDeflate: false,
      });
      const sdp = sdpLike(sdpBytes, opened);
      let closing = false;
      let ready: () => void = () => undefined;
      const readyPromise = new Promise<void>((resolve) => {
        ready = resolve;
      });
      const closed = new Promise<void>((resolve) => ws.on("close", () => resolve()));
      ws.on("message", (data: Buffer) => {
        const message = JSON.parse(data.toString()) as { type: string; payload?: { msg?: string } };
        if (message.type === "OFFER") handlers.onOffer();
        else if (message.type === "ANSWER") handlers.onAnswer();
        else if (message.type === "OPEN") ready();
        else handlers.onError(`unexpected ${message.type}: ${message.payload?.msg ?? ""}`);
      });
      ws.on("error", (e) => {
        if (!closing) handlers.onError(`${deviceId}: ${e.message}`);
      });
      try {
        await withTimeout(readyPromise, 10_000, `${deviceId} open`);
      } catch (e) {
        closing = true;
        ws.terminate();
        throw e;
      }
      const describe = (type: "OFFER" | "ANSWER") =>
        ws.send(
          JSON.stringify({
            type,
            dst: peerId,
            payload: {
              sdp: { type: type === "OFFER" ? "offer" : "answer", sdp },
              type: "media",
              connectionId: `mc_${callId}`,
              browser: "bench",
            },
          }),
        );
      return {
        sendOffer: () => describe("OFFER"),
        sendAnswer: () => describe("ANSWER"),
        async close() {
          closing = true;
          ws.close();
          await withTimeout(closed, 5000, `${deviceId} close`).catch(() => ws.terminate());
        },
      };
    },
  };
}
