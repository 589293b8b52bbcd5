import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createRoundTrips } from "./round-trips.ts";

describe("round-trip tracker", () => {
  it("matches answers FIFO per pair and counts only offers sent in the window", () => {
    let t = 0;
    const rt = createRoundTrips(() => t);
    rt.sent(0); // warm-up, not counted
    rt.openWindow();
    rt.sent(0);
    t = 2;
    rt.sent(1);
    t = 5;
    assert.equal(rt.answered(0), true); // the warm-up offer
    assert.equal(rt.answered(0), true); // latency 5
    assert.equal(rt.answered(0), false);
    t = 9;
    rt.sent(1);
    rt.closeWindow();
    t = 10;
    rt.sent(1); // after the window, not counted
    assert.equal(rt.answered(1), true); // latency 8
    assert.equal(rt.totalOutstanding(), 2);
    const r = rt.result({ errors: 0, errorSamples: [], openMs: 1 });
    assert.equal(r.roundTrips, 2);
    assert.equal(r.measuredMs, 9);
    assert.equal(r.unanswered, 1);
    assert.deepEqual([r.latency.p50, r.latency.max], [5, 8]);
  });
});
