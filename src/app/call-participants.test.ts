import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createManualClock } from "../adapters/clock/manual-clock.ts";
import type { DeviceRef, OutboundEvent } from "../domain/call-types.ts";
import { createCallParticipants } from "./call-participants.ts";

const alice: DeviceRef = { userId: "alice", deviceId: "phone" };
const bob: DeviceRef = { userId: "bob", deviceId: "laptop" };
const ev = (n: number): OutboundEvent => ({ type: "quality_hint", callId: "c", maxBitrateBps: n });

function setup(maxQueued = 3) {
  const clock = createManualClock();
  const lost: DeviceRef[] = [];
  let overflows = 0;
  const parts = createCallParticipants({
    clock,
    graceMs: 1000,
    maxQueued,
    onLost: (d) => lost.push(d),
    onOverflow: () => overflows++,
  });
  return { clock, parts, lost, overflows: () => overflows };
}

describe("call participants", () => {
  test("tracks where each device last spoke from", () => {
    const { parts } = setup();
    assert.equal(parts.where(alice), undefined);
    parts.at(alice, "n1");
    parts.at(bob, "n2");
    assert.equal(parts.where(alice), "n1");
    assert.deepEqual(parts.nodeLeft("n1"), [alice]);
    assert.equal(parts.where(alice), undefined);
    assert.equal(parts.where(bob), "n2");
  });

  test("an absent device queues events (bounded) and gets them back, oldest first, when it returns", () => {
    const { parts, clock, lost, overflows } = setup(3);
    parts.away(alice);
    assert.equal(parts.where(alice), "absent");
    for (let i = 1; i <= 4; i++) parts.queue(alice, ev(i));
    assert.equal(overflows(), 1);
    clock.advance(999);
    assert.deepEqual(parts.back(alice, "n3"), [ev(2), ev(3), ev(4)]);
    assert.equal(parts.where(alice), "n3");
    clock.advance(5000);
    assert.deepEqual(lost, [], "its loss timer stopped");
  });

  test("a device away for the grace period is lost, once", () => {
    const { parts, clock, lost } = setup();
    parts.away(alice);
    parts.away(alice); // no second timer
    clock.advance(1000);
    assert.deepEqual(lost, [alice]);
    assert.equal(parts.where(alice), undefined);
    parts.queue(alice, ev(1)); // no longer absent: dropped
    assert.deepEqual(parts.back(alice, "n1"), []);
  });

  test("dispose stops every timer", () => {
    const { parts, clock, lost } = setup();
    parts.away(alice);
    parts.dispose();
    clock.advance(5000);
    assert.deepEqual(lost, []);
  });
});
