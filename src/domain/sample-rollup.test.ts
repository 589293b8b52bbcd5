import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { QualitySample } from "./quality.ts";
import {
  addSample,
  emptyRollup,
  expandWindows,
  type RollupPolicy,
  type SampleRollup,
  type SampleWindow,
  seal,
  type UserSample,
} from "./sample-rollup.ts";

const policy: RollupPolicy = { windowMs: 30_000, maxSamplesPerWindow: 4 };

function sample(userId: string, atMs: number): UserSample {
  const s: QualitySample = {
    atMs,
    fractionLost: 0,
    jitterMs: 2,
    rttMs: 30,
    availableOutgoingBitrateBps: 1e6,
    sentBitrateBps: 9e5,
    frameWidth: 1280,
    frameHeight: 720,
    framesPerSecond: 30,
    qualityStep: 0,
    qualityLimitationReason: "none",
  };
  return { ...s, userId };
}

/** Feeds reports arriving at `nowMs` through a rollup; returns it and the windows sealed. */
function feed(reports: readonly [number, UserSample][], p = policy, r: SampleRollup = emptyRollup) {
  const sealed: SampleWindow[] = [];
  for (const [nowMs, s] of reports) {
    const step = addSample(r, s, nowMs, p, "n1");
    r = step.rollup;
    if (step.sealed) sealed.push(step.sealed);
  }
  return { rollup: r, sealed };
}

describe("sample rollup", () => {
  it("keeps reports in the open window until it is windowMs old, then seals it with that report", () => {
    const a = sample("alice", 1),
      b = sample("bob", 2),
      c = sample("alice", 3);
    const { rollup, sealed } = feed([
      [1_000, a],
      [15_000, b],
      [31_000, c],
    ]);
    assert.deepEqual(sealed, [{ key: "1000-n1-0", samples: [a, b, c] }]);
    assert.equal(rollup.open, undefined);
    assert.equal(rollup.sealed, 1);
  });

  it("opens the next window at the next report; keys stay unique within the call", () => {
    const { rollup, sealed } = feed([
      [0, sample("alice", 0)],
      [30_000, sample("alice", 30)],
      [40_000, sample("bob", 40)],
      [70_000, sample("bob", 70)],
      [75_000, sample("bob", 75)],
    ]);
    assert.deepEqual(
      sealed.map((w) => [w.key, w.samples.length]),
      [
        ["0-n1-0", 2],
        ["40000-n1-1", 2],
      ],
    );
    assert.deepEqual(rollup.open?.samples, [sample("bob", 75)]);
  });

  it("seals a full window early: a call's buffer never exceeds maxSamplesPerWindow", () => {
    const reports = Array.from(
      { length: 10 },
      (_, i) => [i, sample(i % 2 ? "bob" : "alice", i)] as [number, UserSample],
    );
    const { rollup, sealed } = feed(reports);
    assert.deepEqual(
      sealed.map((w) => w.samples.length),
      [4, 4],
    );
    assert.equal(rollup.open?.samples.length, 2);
    assert.deepEqual(
      [...sealed.flatMap((w) => w.samples), ...(rollup.open?.samples ?? [])].map((s) => s.atMs),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      "every report kept, in arrival order",
    );
  });

  it("windowMs 0 stores every report as its own window", () => {
    const { sealed } = feed(
      [
        [5, sample("alice", 5)],
        [5, sample("bob", 5)],
      ],
      { windowMs: 0, maxSamplesPerWindow: 64 },
    );
    assert.deepEqual(
      sealed.map((w) => [w.key, w.samples.length]),
      [
        ["5-n1-0", 1],
        ["5-n1-1", 1],
      ],
    );
  });

  it("seal writes the open window whatever its age (call end, drain), and nothing when there is none", () => {
    const { rollup } = feed([[1_000, sample("alice", 1)]]);
    const step = seal(rollup, "n1");
    assert.deepEqual(step.sealed, { key: "1000-n1-0", samples: [sample("alice", 1)] });
    assert.equal(seal(step.rollup, "n1").sealed, undefined);
    assert.equal(seal(emptyRollup, "n1").sealed, undefined);
  });

  it("another owner's windows of the same call get other keys", () => {
    const mine = feed([[1_000, sample("alice", 1)]]).rollup;
    const theirs = addSample(emptyRollup, sample("alice", 2), 1_000, policy, "n2").rollup;
    assert.notEqual(seal(mine, "n1").sealed?.key, seal(theirs, "n2").sealed?.key);
  });

  it("expands windows oldest first, one sample per participant and time", () => {
    const a1 = sample("alice", 10),
      b1 = sample("bob", 10),
      a2 = sample("alice", 20);
    assert.deepEqual(expandWindows([[a2, b1], [a1, a2], []]), [a1, b1, a2]);
    assert.deepEqual(expandWindows([]), []);
  });
});
