/** The typed push payload (docs/spec.md §8 "Mobile push contract"): what apps decode from `proto`. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { RingEndReason } from "../../gen/calldrop/push/v1/push_pb.js";
import type { Outcome } from "../domain/call-types.ts";
import { decodePushNotification, encodePushNotification } from "./push-notification.ts";

describe("push notification codec", () => {
  it("an incoming call carries caller, video and the ring deadline to the millisecond", () => {
    const ringDeadlineMs = 1_795_500_000_123;
    const p = decodePushNotification(
      encodePushNotification({
        kind: "incoming_call",
        userId: "bob",
        callId: "c-1",
        callerUserId: "alice",
        video: true,
        ringDeadlineMs,
      }),
    );
    assert.equal(p.callId, "c-1");
    assert.equal(p.userId, "bob");
    assert.equal(p.kind.case, "incomingCall");
    if (p.kind.case !== "incomingCall") return;
    assert.equal(p.kind.value.callerUserId, "alice");
    assert.equal(p.kind.value.video, true);
    assert.equal(p.kind.value.ringDeadline && timestampDate(p.kind.value.ringDeadline).getTime(), ringDeadlineMs);
  });

  it("stop ringing names the end as CallKit and ConnectionService do", () => {
    const expected: Record<Outcome, RingEndReason> = {
      completed: RingEndReason.ANSWERED_ELSEWHERE,
      declined: RingEndReason.DECLINED_ELSEWHERE,
      cancelled: RingEndReason.CALLER_CANCELLED,
      missed: RingEndReason.UNANSWERED,
      busy: RingEndReason.FAILED,
      unreachable: RingEndReason.FAILED,
      failed: RingEndReason.FAILED,
    };
    for (const [outcome, reason] of Object.entries(expected) as [Outcome, RingEndReason][]) {
      const p = decodePushNotification(
        encodePushNotification({ kind: "stop_ringing", userId: "u", callId: "c", outcome }),
      );
      assert.deepEqual(p.kind.case === "stopRinging" && p.kind.value.reason, reason, outcome);
    }
  });

  it("a missed call carries the caller and when it started; the encoding is base64 with padding", () => {
    const b64 = encodePushNotification({
      kind: "missed_call",
      userId: "bob",
      callId: "c-2",
      callerUserId: "alice",
      startedAtMs: 1_000,
    });
    assert.match(b64, /^[A-Za-z0-9+/]+={0,2}$/);
    const p = decodePushNotification(b64);
    assert.equal(p.kind.case, "missedCall");
    if (p.kind.case !== "missedCall") return;
    assert.equal(p.kind.value.callerUserId, "alice");
    assert.equal(p.kind.value.startedAt && timestampDate(p.kind.value.startedAt).getTime(), 1_000);
  });
});
