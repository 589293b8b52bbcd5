import assert from "node:assert/strict";
import { test } from "node:test";
import { sampleAt } from "./call-store.contract.ts";
import { decodeSampleWindow, encodeSampleWindow } from "./sample-window-codec.ts";

test("a window's samples survive the round trip, with and without a path and relay protocol", () => {
  const { path: _, ...noPath } = sampleAt(1_000_500, 360);
  const samples = [
    { ...sampleAt(1_000_000), userId: "alice" },
    { ...noPath, userId: "bob" },
    { ...sampleAt(1_002_000, 540), userId: "alice" },
    { ...sampleAt(1_003_000), path: "relay" as const, relayProtocol: "tls" as const, userId: "bob" },
  ];
  assert.deepEqual(decodeSampleWindow(encodeSampleWindow(samples)), samples);
  assert.deepEqual(decodeSampleWindow(encodeSampleWindow([])), []);
});

test("a sample costs a third of its JSON object or less", () => {
  const samples = Array.from({ length: 12 }, (_, i) => ({
    ...sampleAt(1_764_000_000_000 + i * 2500),
    userId: i % 2 ? "bob-0123456789" : "alice-0123456789",
  }));
  const packed = Buffer.byteLength(encodeSampleWindow(samples));
  const objects = samples.reduce((n, s) => n + Buffer.byteLength(JSON.stringify(s)), 0);
  assert.ok(packed * 3 <= objects, `${packed} B packed vs ${objects} B as objects`);
});
