import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { CallOutcome, CallRecordSchema } from "../../gen/calldrop/v1/call_pb.js";
import { historyLine } from "./history-line.ts";

const record = (outcome: CallOutcome, durationMs: bigint) =>
  create(CallRecordSchema, {
    callerUserId: "bob",
    calleeUserId: "alice",
    // Built from local fields, so the expected text holds in any time zone.
    startedAt: timestampFromDate(new Date(2026, 11, 2, 9, 14, 37)),
    outcome,
    durationMs,
  });

test("a history line shows local time, the outcome's name, who called whom and the talk time", () => {
  assert.equal(historyLine(record(CallOutcome.MISSED, 0n)), "2026-12-02 09:14 · missed · bob → alice · 0:00");
  assert.equal(
    historyLine(record(CallOutcome.COMPLETED, 754_900n)),
    "2026-12-02 09:14 · completed · bob → alice · 12:34",
  );
  assert.equal(
    historyLine(record(CallOutcome.COMPLETED, 3_723_000n)),
    "2026-12-02 09:14 · completed · bob → alice · 1:02:03",
  );
});
