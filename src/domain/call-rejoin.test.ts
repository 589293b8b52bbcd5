import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startCall, transition } from "./call-machine.ts";
import { deviceBack, isParticipantDevice, participantDevices, rejoinEvents, resyncSends } from "./call-rejoin.ts";
import type { CallState, DeviceRef } from "./call-types.ts";

const alice: DeviceRef = { userId: "alice", deviceId: "a1" };
const bobPhone: DeviceRef = { userId: "bob", deviceId: "phone" };
const bobLaptop: DeviceRef = { userId: "bob", deviceId: "laptop" };
const T0 = 1_000;

function ringing(): CallState {
  return startCall(
    {
      callId: "c1",
      caller: alice,
      calleeUserId: "bob",
      video: true,
      calleeDevices: ["phone", "laptop"],
      calleePushable: false,
      calleeBusy: false,
      calleeBlocksCaller: false,
      waiting: false,
    },
    T0,
  ).state;
}

const answered = () => transition(ringing(), { type: "accept", by: bobLaptop }, T0 + 10).state;

describe("rejoin", () => {
  it("while ringing: the caller sees ringing, each ringing callee device the incoming call", () => {
    assert.deepEqual(rejoinEvents(ringing(), alice), [
      { type: "ringing", callId: "c1", calleeUserId: "bob", devices: 2 },
    ]);
    assert.deepEqual(rejoinEvents(ringing(), bobPhone), [
      { type: "incoming_call", callId: "c1", callerUserId: "alice", video: true, ringDeadlineMs: T0 + 30_000 },
    ]);
    assert.deepEqual(rejoinEvents(ringing(), { userId: "bob", deviceId: "tablet" }), []);
    assert.deepEqual(rejoinEvents(ringing(), { userId: "alice", deviceId: "a2" }), []);
  });

  it("once answered: both participants see call_accepted, other devices nothing", () => {
    const accepted = { type: "call_accepted", callId: "c1", answeredDeviceId: "laptop" };
    assert.deepEqual(rejoinEvents(answered(), alice), [accepted]);
    assert.deepEqual(rejoinEvents(answered(), bobLaptop), [accepted]);
    assert.deepEqual(rejoinEvents(answered(), bobPhone), []);
  });

  it("after the end: nothing", () => {
    const ended = transition(answered(), { type: "hangup", by: alice, reason: "hangup" }, T0 + 20).state;
    assert.deepEqual(rejoinEvents(ended, alice), []);
  });

  it("asks both participants of an answered call to resync, and nobody before the answer or after the end", () => {
    const resync = { type: "resync", callId: "c1" };
    assert.deepEqual(resyncSends(answered()), [
      { to: alice, event: resync },
      { to: bobLaptop, event: resync },
    ]);
    const connected = transition(answered(), { type: "media", from: alice, state: "connected" }, T0 + 15).state;
    assert.equal(connected.phase, "connected");
    assert.equal(resyncSends(connected).length, 2);
    assert.deepEqual(resyncSends(ringing()), []);
    const ended = transition(answered(), { type: "hangup", by: alice, reason: "hangup" }, T0 + 20).state;
    assert.deepEqual(resyncSends(ended), []);
  });

  it("participants are the calling device and, once answered, the answering device", () => {
    assert.equal(isParticipantDevice(ringing(), alice), true);
    assert.equal(isParticipantDevice(ringing(), bobPhone), false);
    assert.equal(isParticipantDevice(answered(), bobLaptop), true);
    assert.equal(isParticipantDevice(answered(), bobPhone), false);
    assert.equal(isParticipantDevice(answered(), { userId: "alice", deviceId: "a2" }), false);
  });
});

describe("deviceBack", () => {
  const bobTablet: DeviceRef = { userId: "bob", deviceId: "tablet" };

  it("rings a callee device that comes while the call rings and was not rung, online or resumed", () => {
    for (const kind of ["online", "resumed"] as const) {
      assert.deepEqual(deviceBack(ringing(), bobTablet, kind), {
        event: { type: "ring_device", deviceId: "tablet" },
        rejoin: [],
        resync: [],
      });
    }
  });

  it("a fresh session re-learns the call; a resumed one only catches up on its queue", () => {
    assert.deepEqual(deviceBack(ringing(), bobPhone, "online"), {
      rejoin: rejoinEvents(ringing(), bobPhone),
      resync: [],
    });
    assert.deepEqual(deviceBack(ringing(), alice, "online").rejoin, rejoinEvents(ringing(), alice));
    assert.deepEqual(deviceBack(ringing(), bobPhone, "resumed"), { rejoin: [], resync: [] });
    assert.deepEqual(deviceBack(answered(), alice, "resumed"), { rejoin: [], resync: [] });
  });

  it("a fresh session of a participant of an answered call has both ends resend; other devices do not", () => {
    const state = answered();
    assert.deepEqual(deviceBack(state, bobLaptop, "online"), {
      rejoin: [{ type: "call_accepted", callId: "c1", answeredDeviceId: "laptop" }],
      resync: resyncSends(state),
    });
    assert.equal(deviceBack(state, alice, "online").resync.length, 2);
    assert.deepEqual(deviceBack(state, bobPhone, "online"), { rejoin: [], resync: [] });
  });

  it("nothing after the end", () => {
    const ended = transition(answered(), { type: "hangup", by: alice, reason: "hangup" }, T0 + 20).state;
    assert.deepEqual(deviceBack(ended, alice, "online"), { rejoin: [], resync: [] });
  });
});

describe("participantDevices", () => {
  it("the calling device while ringing, both ends once answered", () => {
    assert.deepEqual(participantDevices(ringing()), [alice]);
    assert.deepEqual(participantDevices(answered()), [alice, bobLaptop]);
  });
});
