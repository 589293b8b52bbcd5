import assert from "node:assert/strict";
import { test } from "node:test";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  CallOutcome,
  CallRatingSchema,
  CallRecordSchema,
  type QualitySummarySchema,
  QualityVerdict,
} from "../../gen/calldrop/v1/call_pb.js";
import { historyLine } from "./history-line.ts";

const record = (outcome: CallOutcome, durationMs: bigint, quality?: MessageInitShape<typeof QualitySummarySchema>) =>
  create(CallRecordSchema, {
    callerUserId: "bob",
    calleeUserId: "alice",
    // Built from local fields, so the expected text holds in any time zone.
    startedAt: timestampFromDate(new Date(2026, 11, 2, 9, 14, 37)),
    outcome,
    durationMs,
    ...(quality ? { quality } : {}),
  });

test("a history line shows local time, the outcome's name, who called whom and the talk time", () => {
  assert.equal(historyLine(record(CallOutcome.MISSED, 0n), "alice"), "2026-12-02 09:14 · missed · bob → alice · 0:00");
  assert.equal(
    historyLine(record(CallOutcome.COMPLETED, 754_900n), "alice"),
    "2026-12-02 09:14 · completed · bob → alice · 12:34",
  );
  assert.equal(
    historyLine(record(CallOutcome.COMPLETED, 3_723_000n), "alice"),
    "2026-12-02 09:14 · completed · bob → alice · 1:02:03",
  );
});

test("a scored call's line ends with its quality in words, the reader's own network as 'your network'", () => {
  const poor = record(CallOutcome.COMPLETED, 754_900n, {
    samples: 20,
    score: { medianMos: 2.14, worstMos: 1.5, verdict: QualityVerdict.POOR, poorNetworkUserId: "bob" },
  });
  assert.equal(
    historyLine(poor, "alice"),
    "2026-12-02 09:14 · completed · bob → alice · 12:34 · quality: poor: bob's network (MOS 2.1)",
  );
  assert.equal(
    historyLine(poor, "bob"),
    "2026-12-02 09:14 · completed · bob → alice · 12:34 · quality: poor: your network (MOS 2.1)",
  );
  const unscored = record(CallOutcome.COMPLETED, 754_900n, { samples: 3 });
  assert.equal(historyLine(unscored, "alice"), "2026-12-02 09:14 · completed · bob → alice · 12:34");
});

test("a rated call's line ends with the reader's own rating; the other side's is not shown", () => {
  const rated = record(CallOutcome.COMPLETED, 754_900n);
  rated.calleeRating = create(CallRatingSchema, { score: 4 });
  assert.equal(historyLine(rated, "alice"), "2026-12-02 09:14 · completed · bob → alice · 12:34 · You rated 4/5");
  assert.equal(historyLine(rated, "bob"), "2026-12-02 09:14 · completed · bob → alice · 12:34");
});
