import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createRateLimiter } from "./rate-limiter.ts";

describe("rate limiter", () => {
  it("allows a burst, then refills at the rate", () => {
    const limiter = createRateLimiter({ capacity: 2, perSecond: 1 });
    assert.ok(limiter.take("u", 0));
    assert.ok(limiter.take("u", 0));
    assert.equal(limiter.take("u", 0), false);
    assert.equal(limiter.take("u", 500), false);
    assert.ok(limiter.take("u", 1_500));
    assert.ok(limiter.take("v", 1_500), "buckets are per key");
  });

  it("gives back a refunded token, never beyond the burst", () => {
    const limiter = createRateLimiter({ capacity: 2, perSecond: 0.001 });
    assert.ok(limiter.take("u", 0));
    assert.ok(limiter.take("u", 0));
    limiter.refund("u");
    assert.ok(limiter.take("u", 0));
    assert.equal(limiter.take("u", 0), false);
    limiter.refund("u");
    limiter.refund("u");
    limiter.refund("u");
    assert.ok(limiter.take("u", 0));
    assert.ok(limiter.take("u", 0));
    assert.equal(limiter.take("u", 0), false);
    limiter.refund("nobody"); // unknown keys are full already
    assert.ok(limiter.take("nobody", 0));
  });
});
