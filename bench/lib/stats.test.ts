import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { percentileOfSorted, perSecond, summarize } from "./stats.ts";

describe("percentileOfSorted", () => {
  const hundred = Float64Array.from({ length: 100 }, (_, i) => i + 1);

  it("uses nearest rank", () => {
    assert.equal(percentileOfSorted(hundred, 50), 50);
    assert.equal(percentileOfSorted(hundred, 95), 95);
    assert.equal(percentileOfSorted(hundred, 99), 99);
    assert.equal(percentileOfSorted(hundred, 100), 100);
    assert.equal(percentileOfSorted([10, 20, 30], 50), 20);
    assert.equal(percentileOfSorted([10, 20, 30, 40], 50), 20);
    assert.equal(percentileOfSorted([7], 99), 7);
  });

  it("is NaN for no samples and rejects out-of-range percentiles", () => {
    assert.ok(Number.isNaN(percentileOfSorted([], 50)));
    assert.throws(() => percentileOfSorted(hundred, 0), RangeError);
    assert.throws(() => percentileOfSorted(hundred, 101), RangeError);
  });
});

describe("summarize", () => {
  it("sorts numerically without touching the input", () => {
    const input = [5, 100, 20, 3, 1];
    const s = summarize(input);
    assert.deepEqual(input, [5, 100, 20, 3, 1]);
    assert.deepEqual(s, { count: 5, mean: 25.8, p50: 5, p95: 100, p99: 100, max: 100 });
  });

  it("reports count 0 and NaN figures for no samples", () => {
    const s = summarize([]);
    assert.equal(s.count, 0);
    assert.ok(Number.isNaN(s.p50) && Number.isNaN(s.max) && Number.isNaN(s.mean));
  });
});

describe("perSecond", () => {
  it("scales counts to a per-second rate", () => {
    assert.equal(perSecond(500, 250), 2000);
    assert.equal(perSecond(10, 0), 0);
  });
});
