import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createRelaySequencer } from "./relay-sequencer.ts";

describe("relay sequencer", () => {
  it("delivers in order, drops duplicates, reports gaps and resynchronises", () => {
    const s = createRelaySequencer();
    const kinds = [1, 2, 2, 1, 3, 6, 5, 7].map((seq) => s.accept("a", "l1", seq));
    assert.deepEqual(kinds, [
      { kind: "deliver" },
      { kind: "deliver" },
      { kind: "duplicate" },
      { kind: "duplicate" },
      { kind: "deliver" },
      { kind: "gap", missing: 2 },
      { kind: "duplicate" },
      { kind: "deliver" },
    ]);
    assert.equal(s.acked("a", "l1"), 7);
  });

  it("keeps senders apart and restarts on a new link id", () => {
    const s = createRelaySequencer();
    s.accept("a", "l1", 1);
    s.accept("a", "l1", 2);
    assert.deepEqual(s.accept("b", "m1", 1), { kind: "deliver" });
    assert.deepEqual(s.accept("a", "l2", 1), { kind: "deliver" });
    assert.equal(s.acked("a", "l1"), 0);
    assert.equal(s.acked("a", "l2"), 1);
  });

  it("takes the first frame of an unknown link as its baseline", () => {
    const s = createRelaySequencer();
    assert.deepEqual(s.accept("a", "l1", 40), { kind: "deliver" });
    assert.deepEqual(s.accept("a", "l1", 41), { kind: "deliver" });
  });
});
