/** Unit tests of the call-quality summary (docs/spec.md §6, §7, §15). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mosOf } from "./mos.ts";
import { type QualitySample, summarizeQuality } from "./quality.ts";
import { scoreQuality } from "./quality-score.ts";

type Sample = QualitySample & { readonly userId?: string };

/** A sample with neutral values; override what the test is about. */
function sample(overrides: Partial<Sample> = {}): Sample {
  return {
    atMs: 0,
    fractionLost: 0,
    jitterMs: 0,
    rttMs: 0,
    availableOutgoingBitrateBps: 2_000_000,
    sentBitrateBps: 0,
    frameWidth: 1280,
    frameHeight: 720,
    framesPerSecond: 30,
    qualityStep: 0,
    qualityLimitationReason: "none",
    ...overrides,
  };
}

/** A sample of `userId` at `atMs` sending `width`x`height`. */
function at(userId: string | undefined, atMs: number, width: number, height: number): Sample {
  return sample({ ...(userId === undefined ? {} : { userId }), atMs, frameWidth: width, frameHeight: height });
}

describe("summarizeQuality", () => {
  it("summarizes no samples as all zeros", () => {
    assert.deepEqual(summarizeQuality([]), {
      samples: 0,
      avgFractionLost: 0,
      avgJitterMs: 0,
      avgRttMs: 0,
      avgBitrateBps: 0,
      resolutionChanges: 0,
    });
  });

  it("summarizes one sample as itself, scored as one window", () => {
    const one = sample({ fractionLost: 0.02, jitterMs: 12, rttMs: 80, sentBitrateBps: 1_500_000 });
    const mos = mosOf(one);
    assert.deepEqual(summarizeQuality([one]), {
      samples: 1,
      avgFractionLost: 0.02,
      avgJitterMs: 12,
      avgRttMs: 80,
      avgBitrateBps: 1_500_000,
      resolutionChanges: 0,
      score: { medianMos: mos, worstMos: mos, verdict: "good" },
    });
  });

  it("scores the samples of both participants (docs/spec.md §15)", () => {
    const samples = [
      sample({ userId: "alice", atMs: 0, fractionLost: 0.3 }),
      sample({ userId: "bob", atMs: 0, fractionLost: 0.01 }),
    ];
    assert.deepEqual(summarizeQuality(samples).score, scoreQuality(samples));
    assert.equal(summarizeQuality(samples).score?.worstMos, mosOf({ rttMs: 0, jitterMs: 0, fractionLost: 0.3 }));
  });

  it("averages loss, jitter, RTT and sent bitrate over every sample of both participants", () => {
    const summary = summarizeQuality([
      sample({ userId: "alice", atMs: 0, fractionLost: 0, jitterMs: 10, rttMs: 40, sentBitrateBps: 1_000_000 }),
      sample({ userId: "bob", atMs: 0, fractionLost: 0.1, jitterMs: 20, rttMs: 60, sentBitrateBps: 500_000 }),
      sample({ userId: "alice", atMs: 5_000, fractionLost: 0.05, jitterMs: 30, rttMs: 80, sentBitrateBps: 1_500_001 }),
    ]);
    assert.equal(summary.samples, 3);
    assert.ok(Math.abs(summary.avgFractionLost - 0.05) < 1e-12);
    assert.equal(summary.avgJitterMs, 20);
    assert.equal(summary.avgRttMs, 60);
    // (1_000_000 + 500_000 + 1_500_001) / 3 = 1_000_000.33…, rounded to whole bits per second.
    assert.equal(summary.avgBitrateBps, 1_000_000);
  });

  it("keeps the most restrictive relay protocol of either participant: TLS over TCP over UDP", () => {
    const relayed = (userId: string, atMs: number, relayProtocol: "udp" | "tcp" | "tls") =>
      sample({ userId, atMs, path: "relay", relayProtocol });
    const p2p = sample({ userId: "bob", atMs: 1, path: "p2p" });
    assert.equal(summarizeQuality([p2p]).relayProtocol, undefined, "not relayed: none");
    assert.equal(summarizeQuality([relayed("alice", 1, "udp"), p2p]).relayProtocol, "udp");
    assert.equal(summarizeQuality([relayed("alice", 1, "udp"), relayed("bob", 1, "tcp")]).relayProtocol, "tcp");
    const tls = [relayed("alice", 1, "udp"), relayed("bob", 2, "tls"), relayed("bob", 3, "tcp")];
    assert.equal(summarizeQuality(tls).relayProtocol, "tls");
    assert.equal(summarizeQuality([...tls].reverse()).relayProtocol, "tls", "whatever the order");
  });

  it("rounds the average bitrate to a whole number", () => {
    const summary = summarizeQuality([sample({ sentBitrateBps: 1_000 }), sample({ sentBitrateBps: 1_001 })]);
    assert.equal(summary.avgBitrateBps, 1_001);
  });

  it("counts resolution changes per participant, in time order, whatever the input order", () => {
    const samples = [
      at("alice", 0, 1280, 720),
      at("bob", 0, 640, 360),
      at("alice", 1_000, 640, 360), // alice: change 1
      at("bob", 1_000, 640, 360),
      at("alice", 2_000, 640, 360),
      at("bob", 2_000, 1280, 720), // bob: change 2
      at("alice", 3_000, 1280, 720), // alice: change 3
    ];
    assert.equal(summarizeQuality(samples).resolutionChanges, 3);
    assert.equal(summarizeQuality([...samples].reverse()).resolutionChanges, 3);
    // Interleaving two participants who each keep one resolution is no change at all.
    const steady = [at("alice", 0, 1280, 720), at("bob", 500, 640, 360), at("alice", 1_000, 1280, 720)];
    assert.equal(summarizeQuality([...steady, at("bob", 1_500, 640, 360)]).resolutionChanges, 0);
  });

  it("sorts by time before counting: an out-of-order sample is not a back-and-forth", () => {
    const samples = [at("alice", 0, 1280, 720), at("alice", 2_000, 640, 360), at("alice", 1_000, 1280, 720)];
    assert.equal(summarizeQuality(samples).resolutionChanges, 1);
  });

  it("treats a change in only width or only height as a change", () => {
    const samples = [at("alice", 0, 1280, 720), at("alice", 1, 1280, 704), at("alice", 2, 1264, 704)];
    assert.equal(summarizeQuality(samples).resolutionChanges, 2);
  });

  it("groups samples without a userId as one participant", () => {
    const samples = [at(undefined, 0, 1280, 720), at(undefined, 1, 640, 360), at("alice", 2, 640, 360)];
    assert.equal(summarizeQuality(samples).resolutionChanges, 1);
  });

  it("does not modify its input", () => {
    const samples = Object.freeze([at("alice", 2, 640, 360), at("alice", 1, 1280, 720)]);
    summarizeQuality(samples);
    assert.deepEqual(
      samples.map((s) => s.atMs),
      [2, 1],
    );
  });
});
