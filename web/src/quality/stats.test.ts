import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseStats, type StatsEntry } from "./stats.ts";

function report(atMs: number, bytesSent: number, localType: string, extra: Partial<Record<string, unknown>> = {}) {
  const entries: StatsEntry[] = [
    { id: "T1", type: "transport", timestamp: atMs, selectedCandidatePairId: "CP1" },
    {
      id: "CP1",
      type: "candidate-pair",
      timestamp: atMs,
      localCandidateId: "L1",
      remoteCandidateId: "R1",
      availableOutgoingBitrate: 1_200_000,
      currentRoundTripTime: 0.004,
      state: "succeeded",
    },
    {
      id: "L1",
      type: "local-candidate",
      timestamp: atMs,
      candidateType: localType,
      port: 50123,
      ...(localType === "relay" ? { relayProtocol: extra.relayProtocol ?? "udp" } : {}),
    },
    { id: "R1", type: "remote-candidate", timestamp: atMs, candidateType: "host" },
    {
      id: "OV",
      type: "outbound-rtp",
      kind: "video",
      timestamp: atMs,
      bytesSent,
      frameWidth: 640,
      frameHeight: 360,
      framesPerSecond: 29,
      qualityLimitationReason: "bandwidth",
    },
    { id: "OA", type: "outbound-rtp", kind: "audio", timestamp: atMs, bytesSent: 1000 },
    {
      id: "IV",
      type: "inbound-rtp",
      kind: "video",
      timestamp: atMs,
      bytesReceived: bytesSent,
      framesDecoded: 42,
      frameWidth: 320,
      frameHeight: 180,
      jitter: 0.012,
    },
    ...(Object.keys(extra).some((k) => k !== "relayProtocol")
      ? [{ id: "RI", type: "remote-inbound-rtp", kind: "video", timestamp: atMs, ...extra } as StatsEntry]
      : []),
  ];
  return entries;
}

describe("parseStats", () => {
  it("reads path, sizes, estimate and rates from a Chromium-shaped report", () => {
    const first = parseStats(report(10_000, 100_000, "host"));
    assert.equal(first.path, "p2p");
    assert.equal(first.sentBitrateBps, 0, "no rate without a previous reading");
    assert.equal(first.rttMs, 4, "falls back to the candidate pair RTT");
    assert.equal(first.fractionLost, undefined, "remote-inbound-rtp absent at first");
    const second = parseStats(
      report(12_000, 350_000, "host", { fractionLost: 0.05, roundTripTime: 0.02, jitter: 0.003 }),
      first.snapshot,
    );
    assert.equal(second.sentBitrateBps, 1_000_000, "250 kB in 2 s");
    assert.equal(second.fractionLost, 0.05);
    assert.equal(second.rttMs, 20);
    assert.equal(second.jitterMs, 12, "inbound video jitter");
    assert.deepEqual(second.sent, { width: 640, height: 360, fps: 29 });
    assert.deepEqual(second.received, { width: 320, height: 180, fps: 0 });
    assert.equal(second.framesDecoded, 42);
    assert.equal(second.availableOutgoingBitrateBps, 1_200_000);
    assert.equal(second.qualityLimitationReason, "bandwidth");
    assert.equal(second.localCandidatePort, 50123);
  });

  it("says relay when either side of the selected pair is a relay candidate", () => {
    assert.equal(parseStats(report(1, 1, "relay")).path, "relay");
    assert.equal(parseStats(report(1, 1, "relay")).localCandidateType, "relay");
    assert.equal(parseStats([]).path, "unknown");
  });

  it("reads the relay protocol of a relayed local candidate (TURN over UDP, TCP or TLS), none otherwise", () => {
    for (const p of ["udp", "tcp", "tls"]) {
      assert.equal(parseStats(report(1, 1, "relay", { relayProtocol: p })).relayProtocol, p);
    }
    assert.equal(parseStats(report(1, 1, "relay", { relayProtocol: "sctp" })).relayProtocol, "", "unknown: none");
    assert.equal(parseStats(report(1, 1, "host")).relayProtocol, "", "not relayed on this side");
    assert.equal(parseStats([]).relayProtocol, "");
  });
});
