/** Unit tests of the history record's protobuf encoding: the quality score (docs/spec.md §15). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { QualityVerdict } from "../../gen/calldrop/v1/call_pb.js";
import type { CallRecord } from "../app/ports/call-store.ts";
import { recordToProto } from "./proto-mapping.ts";

const record: CallRecord = {
  callId: "c1",
  caller: { userId: "alice", deviceId: "a1" },
  calleeUserId: "bob",
  video: true,
  startedAtMs: 1_000,
  ringDeadlineMs: 61_000,
};
const averages = {
  samples: 12,
  avgFractionLost: 0.2,
  avgJitterMs: 9,
  avgRttMs: 70,
  avgBitrateBps: 300_000,
  resolutionChanges: 1,
};

test("a record's quality score is encoded with its verdict and whose network was poor", () => {
  const score = { medianMos: 2.4, worstMos: 1.9, verdict: "poor", poorNetworkUserId: "bob" } as const;
  const pb = recordToProto({ ...record, quality: { ...averages, score } });
  assert.equal(pb.quality?.score?.medianMos, 2.4);
  assert.equal(pb.quality?.score?.worstMos, 1.9);
  assert.equal(pb.quality?.score?.verdict, QualityVerdict.POOR);
  assert.equal(pb.quality?.score?.poorNetworkUserId, "bob");
  for (const [verdict, pbVerdict] of [
    ["good", QualityVerdict.GOOD],
    ["fair", QualityVerdict.FAIR],
  ] as const) {
    const q = recordToProto({ ...record, quality: { ...averages, score: { ...score, verdict } } }).quality;
    assert.equal(q?.score?.verdict, pbVerdict);
  }
});

test("a score naming nobody has an empty user, and a record from before scores has none", () => {
  const score = { medianMos: 4.3, worstMos: 4.1, verdict: "good" } as const;
  assert.equal(recordToProto({ ...record, quality: { ...averages, score } }).quality?.score?.poorNetworkUserId, "");
  const old = recordToProto({ ...record, quality: averages });
  assert.equal(old.quality?.samples, 12);
  assert.equal(old.quality?.score, undefined);
});
