import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseBenchArgs } from "./args.ts";

describe("parseBenchArgs", () => {
  const known = ["relay-transport", "call-storm"];

  it("defaults to every scenario, full mode", () => {
    assert.deepEqual(parseBenchArgs([], known), { scenarios: known, quick: false, outDir: undefined, help: false });
  });

  it("takes named scenarios once, --quick and --out", () => {
    const a = parseBenchArgs(["call-storm", "--quick", "call-storm", "--out", "/tmp/x"], known);
    assert.deepEqual(a, { scenarios: ["call-storm"], quick: true, outDir: "/tmp/x", help: false });
  });

  it("with --quick and no names, runs the quick defaults when given", () => {
    assert.deepEqual(parseBenchArgs(["--quick"], known, ["call-storm"]).scenarios, ["call-storm"]);
    assert.deepEqual(parseBenchArgs(["--quick"], known).scenarios, known);
    assert.deepEqual(parseBenchArgs([], known, ["call-storm"]).scenarios, known);
    assert.deepEqual(parseBenchArgs(["--quick", "relay-transport"], known, ["call-storm"]).scenarios, [
      "relay-transport",
    ]);
  });

  it("rejects unknown scenarios and options", () => {
    assert.throws(() => parseBenchArgs(["nope"], known), /unknown scenario nope; known: relay-transport, call-storm/);
    assert.throws(() => parseBenchArgs(["--fast"], known));
  });
});
