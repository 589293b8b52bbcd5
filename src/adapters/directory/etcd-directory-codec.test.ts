import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CallState } from "../../domain/call-types.ts";
import { decodeStoredCall, encodeJsonStoredCall, encodeStoredCall, type StoredCall } from "./etcd-directory-codec.ts";

const callId = "0192f1a2-3b4c-7d5e-8f60-718293a4b5c6";
const call = {
  callId,
  caller: { userId: "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f", deviceId: "web-Ω-1" },
  calleeUserId: "bob@example.com",
  video: false,
  startedAtMs: 1_764_000_000_000,
  ringDeadlineMs: 1_764_000_030_000,
};
const states: CallState[] = [
  { phase: "ringing", call, ringing: ["p1", "p2"], pushed: true },
  { phase: "ringing", call: { ...call, video: true }, ringing: [], pushed: false },
  {
    phase: "connecting",
    call,
    answeredDeviceId: "p1",
    answeredAtMs: call.startedAtMs + 5_000,
    setupDeadlineMs: call.startedAtMs + 35_000,
    candidates: 3,
  },
  {
    phase: "connected",
    call,
    answeredDeviceId: "p1",
    answeredAtMs: call.startedAtMs + 5_000,
    connectedAtMs: call.startedAtMs + 6_000,
    path: "relay",
    setupMs: 1_000,
    candidates: 200,
  },
  { phase: "ended", call, end: { outcome: "missed", reason: "ring_timeout", endedAtMs: call.ringDeadlineMs } },
  {
    phase: "ended",
    call,
    end: {
      outcome: "completed",
      reason: "hangup",
      endedAtMs: call.startedAtMs + 600_000,
      answeredDeviceId: "p1",
      answeredAtMs: call.startedAtMs + 5_000,
      path: "p2p",
      setupMs: 0,
    },
  },
];

describe("etcd directory value codec", () => {
  it("gives back every phase exactly, in far fewer bytes than JSON", () => {
    for (const state of states) {
      const stored: StoredCall = { ownerNodeId: "calldrop-signaling-3-1a2b3c4d", state };
      const bytes = encodeStoredCall(stored);
      assert.deepEqual(decodeStoredCall(bytes, callId), stored);
      assert.ok(bytes.length * 2.5 < encodeJsonStoredCall(stored).length, `${bytes.length} bytes for ${state.phase}`);
    }
  });

  it("stores as JSON what the compact form cannot hold exactly, and reads the layout before's JSON", () => {
    const connected = states[3] as Extract<CallState, { phase: "connected" }>;
    const odd: StoredCall[] = [
      { ownerNodeId: "n1", state: { ...connected, setupMs: 12.5 } },
      { ownerNodeId: "n1", state: { ...connected, call: { ...call, calleeUserId: "lone \ud800" } } },
      { ownerNodeId: "n1", state: { ...connected, path: "tcp" as never } },
    ];
    for (const stored of odd) {
      const bytes = encodeStoredCall(stored);
      assert.equal(bytes[0], "{".charCodeAt(0));
      assert.deepEqual(decodeStoredCall(bytes, callId), stored);
    }
  });

  it("refuses a truncated or unknown value instead of inventing a call", () => {
    const bytes = encodeStoredCall({ ownerNodeId: "n1", state: states[0] as CallState });
    assert.throws(() => decodeStoredCall(bytes.subarray(0, bytes.length - 3), callId), /truncated/);
    assert.throws(() => decodeStoredCall(Buffer.from([0x27, 0]), callId), /unknown value format/);
  });
});
