import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CallOutcome, EndReason } from "../../gen/calldrop/v1/call_pb.js";
import { callEndedNotice, mediaErrorNotice } from "./messages.ts";

describe("notices", () => {
  it("names every failure from the caller's side", () => {
    const t = (o: CallOutcome, r = EndReason.UNSPECIFIED) => callEndedNotice(o, r, "caller", "bob").text;
    assert.match(t(CallOutcome.BUSY), /bob is busy/);
    assert.match(t(CallOutcome.DECLINED), /bob declined/);
    assert.match(t(CallOutcome.UNREACHABLE), /cannot be reached/);
    assert.match(t(CallOutcome.MISSED, EndReason.RING_TIMEOUT), /^No answer/);
    assert.match(t(CallOutcome.FAILED, EndReason.SETUP_TIMEOUT), /^Connection failed/);
    assert.match(t(CallOutcome.FAILED, EndReason.PARTICIPANT_LOST), /was lost/);
    // Media that had connected and then failed (e.g. the other page closed): lost, not a setup problem.
    const lost = callEndedNotice(CallOutcome.FAILED, EndReason.MEDIA_FAILED, "caller", "bob", true).text;
    assert.match(lost, /Connection to bob was lost/);
    assert.doesNotMatch(lost, /relay-only/);
    assert.equal(callEndedNotice(CallOutcome.BUSY, EndReason.CALLEE_BUSY, "caller", "bob").kind, "error");
  });

  it("tells the callee about a missed call", () => {
    assert.match(
      callEndedNotice(CallOutcome.MISSED, EndReason.RING_TIMEOUT, "callee", "ann").text,
      /Missed call from ann/,
    );
    assert.match(callEndedNotice(CallOutcome.CANCELLED, EndReason.CANCELLED, "callee", "ann").text, /Missed call/);
  });

  it("explains a denied camera", () => {
    const denied = Object.assign(new Error("Permission denied"), { name: "NotAllowedError" });
    assert.match(mediaErrorNotice(denied).text, /denied/);
    assert.match(mediaErrorNotice({ name: "NotFoundError" }).text, /No camera/);
  });
});
