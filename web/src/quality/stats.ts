/**
 * Turns one RTCPeerConnection.getStats() report into a quality sample (for the
 * badge, the controller and QualityReport). Pure: takes the report's entries as
 * plain objects plus the previous snapshot (for bitrates), so it is unit-tested
 * with synthetic reports. Field names are Chromium's (see shared notes).
 */

/** One stats entry as getStats() yields it. */
export type StatsEntry = { readonly id: string; readonly type: string; readonly timestamp: number } & Record<
  string,
  unknown
>;

/** Counters kept between readings to compute rates. */
export interface StatsSnapshot {
  readonly atMs: number;
  readonly bytesSent: number;
  readonly bytesReceived: number;
}

/** What one reading tells us; numbers are 0 when not (yet) reported. */
export interface ParsedStats {
  readonly atMs: number;
  readonly path: "p2p" | "relay" | "unknown";
  /** Local candidate type of the selected pair (host, srflx, prflx, relay). */
  readonly localCandidateType: string;
  readonly remoteCandidateType: string;
  /**
   * How this side reaches its TURN server when its selected local candidate is a relay (the
   * candidate's relayProtocol: TURN over UDP, TCP or TLS); "" otherwise.
   */
  readonly relayProtocol: "udp" | "tcp" | "tls" | "";
  /** UDP/TCP port of the selected local candidate (0 when unknown). */
  readonly localCandidatePort: number;
  readonly availableOutgoingBitrateBps?: number;
  readonly fractionLost?: number;
  readonly rttMs?: number;
  readonly jitterMs: number;
  readonly sentBitrateBps: number;
  readonly receivedBitrateBps: number;
  readonly sent: { readonly width: number; readonly height: number; readonly fps: number };
  readonly received: { readonly width: number; readonly height: number; readonly fps: number };
  readonly framesDecoded: number;
  readonly qualityLimitationReason: string;
  readonly snapshot: StatsSnapshot;
}

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string => (typeof v === "string" ? v : "");

/** Parses a report; `previous` is the last reading's snapshot (undefined at first). */
export function parseStats(entries: Iterable<StatsEntry>, previous?: StatsSnapshot): ParsedStats {
  const byId = new Map<string, StatsEntry>();
  for (const e of entries) byId.set(e.id, e);
  const all = [...byId.values()];
  const video = (type: string) => all.find((e) => e.type === type && e.kind === "video");
  const outVideo = video("outbound-rtp");
  const inVideo = video("inbound-rtp");
  const remoteIn = video("remote-inbound-rtp");
  const transport = all.find((e) => e.type === "transport" && typeof e.selectedCandidatePairId === "string");
  const pair =
    (transport && byId.get(str(transport.selectedCandidatePairId))) ??
    all.find(
      (e) => e.type === "candidate-pair" && (e.nominated === true || e.selected === true) && e.state === "succeeded",
    );
  const local = pair ? byId.get(str(pair.localCandidateId)) : undefined;
  const remote = pair ? byId.get(str(pair.remoteCandidateId)) : undefined;
  const localType = str(local?.candidateType);
  const remoteType = str(remote?.candidateType);
  const atMs = Math.max(0, ...all.map((e) => e.timestamp));
  const relayProtocol = str(local?.relayProtocol);

  const bytesSent = sum(all, "outbound-rtp", "bytesSent");
  const bytesReceived = sum(all, "inbound-rtp", "bytesReceived");
  const dt = previous ? (atMs - previous.atMs) / 1000 : 0;
  const rate = (now: number, before: number | undefined) =>
    dt > 0 && before !== undefined ? Math.max(0, Math.round(((now - before) * 8) / dt)) : 0;
  const rttS = num(remoteIn?.roundTripTime) ?? num(pair?.currentRoundTripTime);
  const jitterS = num(inVideo?.jitter) ?? num(remoteIn?.jitter) ?? 0;

  return {
    atMs,
    path: !pair ? "unknown" : localType === "relay" || remoteType === "relay" ? "relay" : "p2p",
    localCandidateType: localType,
    remoteCandidateType: remoteType,
    relayProtocol:
      localType === "relay" && (relayProtocol === "udp" || relayProtocol === "tcp" || relayProtocol === "tls")
        ? relayProtocol
        : "",
    localCandidatePort: num(local?.port) ?? 0,
    availableOutgoingBitrateBps: num(pair?.availableOutgoingBitrate),
    fractionLost: num(remoteIn?.fractionLost),
    rttMs: rttS === undefined ? undefined : rttS * 1000,
    jitterMs: jitterS * 1000,
    sentBitrateBps: rate(bytesSent, previous?.bytesSent),
    receivedBitrateBps: rate(bytesReceived, previous?.bytesReceived),
    sent: frame(outVideo),
    received: frame(inVideo),
    framesDecoded: num(inVideo?.framesDecoded) ?? 0,
    qualityLimitationReason: str(outVideo?.qualityLimitationReason) || "none",
    snapshot: { atMs, bytesSent, bytesReceived },
  };
}

function frame(e: StatsEntry | undefined): { width: number; height: number; fps: number } {
  return { width: num(e?.frameWidth) ?? 0, height: num(e?.frameHeight) ?? 0, fps: num(e?.framesPerSecond) ?? 0 };
}

function sum(all: readonly StatsEntry[], type: string, field: string): number {
  return all.filter((e) => e.type === type).reduce((s, e) => s + (num(e[field]) ?? 0), 0);
}
