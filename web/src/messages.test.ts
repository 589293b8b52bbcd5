import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { CallOutcome, EndReason } from "../../gen/calldrop/v1/call_pb.js";
import { callEndedNotice, clock, endedNotice, mediaErrorNotice, serverErrorNotice } from "./messages.ts";

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
    assert.match(mediaErrorNotice(denied).text, /denied — allow it in the address bar/);
    assert.match(mediaErrorNotice({ name: "NotFoundError" }).text, /No camera/);
  });

  it("says a failed request in words, never as a code", () => {
    const offline = "No connection — check your network.";
    // fetch() itself failing (sign-in), and the same under Connect (a command or the stream).
    assert.equal(serverErrorNotice(new TypeError("Failed to fetch")).text, offline);
    assert.equal(serverErrorNotice(ConnectError.from(new TypeError("Failed to fetch"))).text, offline);
    assert.equal(serverErrorNotice(new ConnectError("upstream connect error", Code.Unavailable)).text, offline);
    assert.equal(
      serverErrorNotice(new ConnectError("x", Code.Unauthenticated)).text,
      "Your sign-in expired — sign in again.",
    );
    assert.match(serverErrorNotice(new ConnectError("boom", Code.Internal)).text, /^Something went wrong/);
    // The server's own message (written for people) as a sentence, without the "[code]" prefix.
    const refused = serverErrorNotice(new ConnectError("callee user id is required", Code.InvalidArgument)).text;
    assert.equal(refused, "Callee user id is required.");
    for (const n of [refused, serverErrorNotice(new ConnectError("", Code.NotFound)).text]) {
      assert.doesNotMatch(n, /\[|invalid_argument|not_found/);
    }
  });

  it("says how long a call lasted", () => {
    assert.equal(endedNotice("bob", 187_400).text, "Call with bob ended (3:07).");
    assert.equal(endedNotice("bob").text, "Call with bob ended.");
    assert.deepEqual([clock(0), clock(9_999), clock(754_000), clock(3_723_000)], ["0:00", "0:09", "12:34", "1:02:03"]);
  });
});
