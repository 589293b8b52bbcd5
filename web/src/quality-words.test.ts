/** Unit tests of the quality score in words (docs/spec.md §15). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { QualitySummarySchema, QualityVerdict } from "../../gen/calldrop/v1/call_pb.js";
import { qualityInWords } from "./quality-words.ts";

const summary = (verdict: QualityVerdict, medianMos: number, poorNetworkUserId = "") =>
  create(QualitySummarySchema, { samples: 10, score: { medianMos, worstMos: 1, verdict, poorNetworkUserId } });

test("says the verdict with the median MOS to one decimal", () => {
  assert.equal(qualityInWords(summary(QualityVerdict.GOOD, 4.349), "alice"), "good (MOS 4.3)");
  assert.equal(qualityInWords(summary(QualityVerdict.FAIR, 3.35), "alice"), "fair (MOS 3.4)");
  assert.equal(qualityInWords(summary(QualityVerdict.POOR, 2.04), "alice"), "poor (MOS 2.0)");
});

test("a poor call names whose network: 'your network' for the reader's own, else the other user's", () => {
  assert.equal(qualityInWords(summary(QualityVerdict.POOR, 2.1, "bob"), "alice"), "poor: bob's network (MOS 2.1)");
  assert.equal(qualityInWords(summary(QualityVerdict.POOR, 2.1, "bob"), "bob"), "poor: your network (MOS 2.1)");
});

test("names a network only when the call was poor", () => {
  assert.equal(qualityInWords(summary(QualityVerdict.FAIR, 3.3, "bob"), "alice"), "fair (MOS 3.3)");
});

test("says nothing for a call without a score", () => {
  assert.equal(qualityInWords(undefined, "alice"), undefined);
  assert.equal(qualityInWords(create(QualitySummarySchema, { samples: 4 }), "alice"), undefined);
  assert.equal(qualityInWords(summary(QualityVerdict.UNSPECIFIED, 4), "alice"), undefined);
});
