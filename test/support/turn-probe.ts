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

/** A relayed connection kept open in a page (see `holdRelay`). */
export interface HeldRelay {
  /** Sends `text` through the relay and resolves with what came back (rejects when nothing did within `timeoutMs`). */
  echo(text: string, timeoutMs: number): Promise<string>;
  /** The connection's state now ("connected" while the relay carries it). */
  state(): Promise<string>;
  close(): Promise<void>;
}

/**
 * Connects two relay-only RTCPeerConnections in `page` with `iceServers` and keeps them
 * (a call in progress, as far as coturn can tell): b echoes whatever a sends on a data
 * channel. Rejects when they do not connect within `timeoutMs`.
 */
export async function holdRelay(
  page: Page,
  iceServers: { urls: string[]; username: string; credential: string }[],
  timeoutMs: number,
): Promise<HeldRelay> {
  const id = await page.evaluate(
    async ({ iceServers, timeoutMs }) => {
      const config: RTCConfiguration = { iceServers, iceTransportPolicy: "relay" };
      const a = new RTCPeerConnection(config);
      const b = new RTCPeerConnection(config);
      for (const [from, to] of [
        [a, b],
        [b, a],
      ] as const) {
        from.onicecandidate = (e) => void (e.candidate && to.addIceCandidate(e.candidate).catch(() => {}));
      }
      b.ondatachannel = (e) => {
        e.channel.onmessage = (m) => e.channel.send(`echo:${String(m.data)}`);
      };
      const channel = a.createDataChannel("held");
      const open = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`relay not connected: ${a.connectionState}`)), timeoutMs);
        channel.onopen = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      await a.setLocalDescription(await a.createOffer());
      await b.setRemoteDescription(a.localDescription as RTCSessionDescription);
      await b.setLocalDescription(await b.createAnswer());
      await a.setRemoteDescription(b.localDescription as RTCSessionDescription);
      await open;
      const w = window as unknown as { heldRelays?: unknown[] };
      w.heldRelays ??= [];
      const held = w.heldRelays;
      held.push({ a, b, channel });
      return held.length - 1;
    },
    { iceServers, timeoutMs },
  );
  type Held = { a: RTCPeerConnection; b: RTCPeerConnection; channel: RTCDataChannel };
  return {
    echo: (text, timeoutMs) =>
      page.evaluate(
        ({ id, text, timeoutMs }) => {
          const { channel } = (window as unknown as { heldRelays: Held[] }).heldRelays[id] as Held;
          return new Promise<string>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error("no echo through the held relay")), timeoutMs);
            channel.onmessage = (m) => {
              clearTimeout(timer);
              resolve(String(m.data));
            };
            channel.send(text);
          });
        },
        { id, text, timeoutMs },
      ),
    state: () =>
      page.evaluate(
        (id) => ((window as unknown as { heldRelays: Held[] }).heldRelays[id] as Held).a.connectionState,
        id,
      ),
    close: () =>
      page.evaluate((id) => {
        const held = (window as unknown as { heldRelays: Held[] }).heldRelays[id] as Held;
        held.a.close();
        held.b.close();
      }, id),
  };
}
