import assert from "node:assert/strict";
import { test } from "node:test";
import { chooseNode } from "./call-takeover.ts";

test("chooseNode: deterministic, spreads calls, and only moves the calls of a node that left", () => {
  const nodes = ["n1", "n2", "n3"];
  const calls = Array.from({ length: 300 }, (_, i) => `call-${i}`);
  const before = calls.map((c) => chooseNode(c, nodes));
  assert.deepEqual(
    calls.map((c) => chooseNode(c, [...nodes].reverse())),
    before,
    "independent of the order nodes are listed in",
  );
  for (const n of nodes) {
    const share = before.filter((x) => x === n).length;
    assert.ok(share > 60 && share < 140, `${n} gets ${share} of 300`);
  }
  const after = calls.map((c) => chooseNode(c, ["n1", "n3"]));
  calls.forEach((_, i) => {
    if (before[i] !== "n2") assert.equal(after[i], before[i], "a call of a surviving node stays put");
  });
  assert.equal(chooseNode("x", []), undefined);
});
