/**
 * Checks a TURN credential from inside a real page: two RTCPeerConnections in
 * relay-only mode connect to each other through the TURN server (or fail to).
 */
import type { Page } from "playwright-core";

/** What happened within the time limit. */
export interface RelayProbeResult {
  readonly connected: boolean;
  readonly relayCandidates: number;
  /** icecandidateerror codes seen (401 = coturn refused the credential). */
  readonly errorCodes: number[];
  readonly iceStates: string[];
  readonly selectedLocalType: string;
}

/** Runs the probe in `page` with `iceServers`; waits at most `timeoutMs`. */
export function relayProbe(
  page: Page,
  iceServers: { urls: string[]; username: string; credential: string }[],
  timeoutMs: number,
): Promise<RelayProbeResult> {
  return page.evaluate(
    async ({ iceServers, timeoutMs }) => {
      const config: RTCConfiguration = { iceServers, iceTransportPolicy: "relay" };
      const a = new RTCPeerConnection(config);
      const b = new RTCPeerConnection(config);
      const errorCodes: number[] = [];
      const iceStates: string[] = [];
      let relayCandidates = 0;
      for (const [from, to] of [
        [a, b],
        [b, a],
      ] as const) {
        from.onicecandidate = (e) => {
          if (!e.candidate) return;
          if (e.candidate.type === "relay") relayCandidates += 1;
          void to.addIceCandidate(e.candidate).catch(() => {});
        };
        from.onicecandidateerror = (e) => errorCodes.push((e as RTCPeerConnectionIceErrorEvent).errorCode);
      }
      a.oniceconnectionstatechange = () => iceStates.push(a.iceConnectionState);
      a.createDataChannel("probe");
      await a.setLocalDescription(await a.createOffer());
      await b.setRemoteDescription(a.localDescription as RTCSessionDescription);
      await b.setLocalDescription(await b.createAnswer());
      await a.setRemoteDescription(b.localDescription as RTCSessionDescription);
      const connected = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        a.onconnectionstatechange = () => {
          if (a.connectionState === "connected") {
            clearTimeout(timer);
            resolve(true);
          }
        };
      });
      let selectedLocalType = "";
      const stats = [...(await a.getStats()).values()] as Record<string, unknown>[];
      const transport = stats.find((s) => s.type === "transport");
      const pair = stats.find((s) => s.id === transport?.selectedCandidatePairId);
      const local = stats.find((s) => s.id === pair?.localCandidateId);
      selectedLocalType = String(local?.candidateType ?? "");
      a.close();
      b.close();
      return { connected, relayCandidates, errorCodes, iceStates, selectedLocalType };
    },
    { iceServers, timeoutMs },
  );
}
