/** Unit tests of a call's quality score over windows of samples (docs/spec.md §15). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mosOf } from "./mos.ts";
import type { QualitySample } from "./quality.ts";
import { causeMarginMos, samplesPerWindow, scoreQuality } from "./quality-score.ts";

type Sample = QualitySample & { readonly userId?: string };

const CLEAN = { rttMs: 40, jitterMs: 5, fractionLost: 0 };
const LOSSY = { rttMs: 40, jitterMs: 5, fractionLost: 0.25 };

/** `count` samples of `userId`, one every 2 s from `fromMs`, with the given network readings. */
function run(
  userId: string | undefined,
  count: number,
  net: { rttMs: number; jitterMs: number; fractionLost: number },
  fromMs = 0,
): Sample[] {
  return Array.from({ length: count }, (_, i) => ({
    ...(userId === undefined ? {} : { userId }),
    atMs: fromMs + i * 2_000,
    ...net,
    availableOutgoingBitrateBps: 2_000_000,
    sentBitrateBps: 1_000_000,
    frameWidth: 1280,
    frameHeight: 720,
    framesPerSecond: 30,
    qualityStep: 0,
    qualityLimitationReason: "none",
  }));
}

describe("scoreQuality", () => {
  it("has no score without samples", () => {
    assert.equal(scoreQuality([]), undefined);
  });

  it("scores a clean call good, its median and worst window the clean MOS, and names nobody", () => {
    const score = scoreQuality([...run("alice", 10, CLEAN), ...run("bob", 10, CLEAN)]);
    assert.deepEqual(score, { medianMos: mosOf(CLEAN), worstMos: mosOf(CLEAN), verdict: "good" });
  });

  it("scores a window from its mean readings, so one bad reading among five is not a bad window", () => {
    const blip = [...run("alice", 4, CLEAN), ...run("alice", 1, LOSSY, 8_000)];
    const score = scoreQuality(blip);
    const meanLoss = LOSSY.fractionLost / samplesPerWindow;
    assert.equal(score?.worstMos, mosOf({ ...CLEAN, fractionLost: meanLoss }));
    assert.equal(score?.verdict, "good");
  });

  it("keeps the worst window apart from the median: 10 s of heavy loss in a minute of clean audio", () => {
    const samples = [...run("alice", 25, CLEAN), ...run("alice", 5, LOSSY, 50_000)];
    const score = scoreQuality(samples);
    assert.equal(score?.medianMos, mosOf(CLEAN));
    assert.equal(score?.worstMos, mosOf(LOSSY));
    assert.equal(score?.verdict, "good");
  });

  it("joins a short tail to the window before it: 7 samples are one window, not 5 + a 2-sample blip", () => {
    const samples = [...run("alice", 5, CLEAN), ...run("alice", 2, LOSSY, 10_000)];
    const mean = (2 * LOSSY.fractionLost) / 7;
    assert.equal(scoreQuality(samples)?.worstMos, mosOf({ ...CLEAN, fractionLost: mean }));
  });

  it("scores fewer samples than a window as one window", () => {
    assert.equal(scoreQuality(run("alice", 2, LOSSY))?.worstMos, mosOf(LOSSY));
  });

  it("never mixes participants in a window, and orders samples by time whatever the input order", () => {
    // Interleaved alice (clean) and bob (lossy) samples: windows per person keep bob's loss whole.
    const samples = [...run("alice", 5, CLEAN), ...run("bob", 5, LOSSY, 1_000)].reverse();
    const score = scoreQuality(samples);
    assert.equal(score?.worstMos, mosOf(LOSSY));
    assert.equal(score?.medianMos, (mosOf(CLEAN) + mosOf(LOSSY)) / 2);
  });

  it("says whose network when poor: the side whose readings were worse", () => {
    const score = scoreQuality([...run("alice", 10, LOSSY), ...run("bob", 10, { ...LOSSY, fractionLost: 0.4 })]);
    assert.equal(score?.verdict, "poor");
    assert.equal(score?.poorNetworkUserId, "bob");
  });

  it("names nobody when both sides' readings are within the margin", () => {
    const alike = { ...LOSSY, fractionLost: LOSSY.fractionLost + 0.001 };
    assert.ok(mosOf(LOSSY) - mosOf(alike) < causeMarginMos);
    const score = scoreQuality([...run("alice", 10, LOSSY), ...run("bob", 10, alike)]);
    assert.equal(score?.verdict, "poor");
    assert.equal(score?.poorNetworkUserId, undefined);
  });

  it("names the only side that sent samples when the call was poor", () => {
    assert.equal(scoreQuality(run("bob", 6, LOSSY))?.poorNetworkUserId, "bob");
  });

  it("names nobody for samples without a user", () => {
    const score = scoreQuality(run(undefined, 6, LOSSY));
    assert.equal(score?.verdict, "poor");
    assert.equal(score?.poorNetworkUserId, undefined);
  });

  it("names nobody when the call is fair or good, even if one side was worse", () => {
    const fair = { rttMs: 40, jitterMs: 5, fractionLost: 0.1 };
    const score = scoreQuality([...run("alice", 10, CLEAN), ...run("bob", 10, fair)]);
    assert.notEqual(score?.verdict, "poor");
    assert.equal(score?.poorNetworkUserId, undefined);
  });

  it("does not modify its input", () => {
    const samples = Object.freeze(run("alice", 3, CLEAN).reverse());
    scoreQuality(samples);
    assert.deepEqual(
      samples.map((s) => s.atMs),
      [4_000, 2_000, 0],
    );
  });
});
