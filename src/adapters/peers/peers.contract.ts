/**
 * The Peers contract (docs/style.md 5): every message kind arrives at the addressed
 * node intact and in send order, with the sender's node id. Run against the
 * in-process adapter and the relay adapter (which also proves the codec round trip).
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { PeerMessage, Peers } from "../../app/ports/peers.ts";

/** Two connected nodes, "a" and "b". */
export interface PeersHarness {
  readonly a: Peers;
  readonly b: Peers;
  close(): Promise<void>;
}

const callId = "0190f0c2-0000-7000-8000-000000000001";
const from = { userId: "alice", deviceId: "phone" };

/** One message of every kind, with every field set. */
export const everyMessage: readonly PeerMessage[] = [
  {
    kind: "deliver",
    userId: "bob",
    deviceId: "laptop",
    origin: "a",
    body: { type: "incoming_call", callId, callerUserId: "alice", video: true, ringDeadlineMs: 1_700_000_030_000 },
  },
  {
    kind: "deliver",
    userId: "bob",
    deviceId: "laptop",
    origin: "a",
    // A waiting call (docs/spec.md §14 "Call waiting") rings as one on another node too.
    body: {
      type: "incoming_call",
      callId,
      callerUserId: "carol",
      video: false,
      ringDeadlineMs: 1_700_000_030_000,
      waiting: true,
    },
  },
  {
    kind: "deliver",
    userId: "bob",
    origin: "a",
    body: { type: "missed_call", callId, callerUserId: "alice", startedAtMs: 5 },
  },
  {
    kind: "deliver",
    userId: "bob",
    deviceId: "laptop",
    origin: "c",
    body: { type: "call_ended", callId, outcome: "failed", reason: "participant_lost" },
  },
  {
    kind: "command",
    requestId: "1",
    from,
    commandId: "cmd-1",
    command: {
      kind: "signal",
      callId,
      signal: {
        id: "cmd-1",
        kind: "ice_candidate",
        candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host",
        sdpMid: "0",
        sdpMLineIndex: 1,
        usernameFragment: "uf",
        endOfCandidates: false,
      },
    },
  },
  {
    kind: "command",
    requestId: "2",
    from,
    commandId: "cmd-2",
    // A resend after a resync: the signal keeps the id of the command that first sent it.
    command: {
      kind: "signal",
      callId,
      signal: { id: "cmd-0", kind: "description", sdpType: "answer", sdp: "v=0\r\n" },
    },
  },
  {
    kind: "command",
    requestId: "2m",
    from,
    commandId: "cmd-2m",
    command: {
      kind: "signal",
      callId,
      signal: { id: "cmd-2m", kind: "media_controls", audioMuted: false, cameraOff: true, screenSharing: false },
    },
  },
  {
    kind: "command",
    requestId: "3",
    from,
    commandId: "cmd-3",
    command: { kind: "hangup", callId, reason: "network_lost" },
  },
  {
    kind: "command",
    requestId: "4",
    from,
    commandId: "cmd-4",
    command: { kind: "media_state", callId, state: "connected", path: "relay", setupMs: 420 },
  },
  {
    kind: "command",
    requestId: "5",
    from,
    commandId: "cmd-5",
    command: {
      kind: "quality_report",
      callId,
      sample: {
        atMs: 1_700_000_000_123,
        fractionLost: 0.5,
        jitterMs: 3,
        rttMs: 40,
        availableOutgoingBitrateBps: 900_000,
        sentBitrateBps: 800_000,
        frameWidth: 640,
        frameHeight: 360,
        framesPerSecond: 30,
        qualityStep: 1,
        qualityLimitationReason: "bandwidth",
        path: "p2p",
      },
    },
  },
  { kind: "notice", requestId: "6", callId, device: from, sessionId: "s1", notice: "resumed" },
  { kind: "reply", requestId: "7", outcome: { ok: true, result: { callId, mergedIntoExisting: true } } },
  { kind: "reply", requestId: "8", outcome: { ok: false, code: "not_participant", message: "nope" } },
  { kind: "handoff", requestId: "9", userId: "alice", deviceId: "phone", resumeToken: "YQ.tok", lastSeq: 7 },
  {
    kind: "handoff_reply",
    requestId: "9",
    outcome: {
      ok: true,
      session: {
        sessionId: "s1",
        resumeToken: "YQ.tok",
        userId: "alice",
        deviceId: "phone",
        nextSeq: 12,
        events: [
          {
            seq: 8,
            sentAtMs: 100,
            body: { type: "command_result", commandId: "c", result: { callId, mergedIntoExisting: false } },
          },
          {
            seq: 9,
            sentAtMs: 101,
            body: { type: "signal", callId, signal: { id: "cmd-r", kind: "ice_restart", sdp: "v=0 restart" } },
          },
          { seq: 10, sentAtMs: 102, body: { type: "resync", callId } },
          {
            seq: 11,
            sentAtMs: 103,
            body: {
              type: "signal",
              callId,
              signal: { id: "cmd-m", kind: "media_controls", audioMuted: true, cameraOff: false, screenSharing: true },
            },
          },
        ],
      },
    },
  },
  { kind: "handoff_reply", requestId: "10", outcome: { ok: false, code: "resume_expired", message: "gone" } },
  { kind: "replaced", userId: "alice", deviceId: "phone", sessionId: "s0" },
];

/** Registers the contract tests for one adapter. */
export function peersContract(title: string, createHarness: () => Promise<PeersHarness>): void {
  describe(`Peers contract: ${title}`, () => {
    let h: PeersHarness;
    beforeEach(async () => {
      h = await createHarness();
    });
    afterEach(() => h.close());

    it("delivers every kind of message intact, in order, naming the sender", async () => {
      const got: { from: string; message: PeerMessage }[] = [];
      const done = new Promise<void>((resolve) => {
        h.b.onMessage((from, message) => {
          got.push({ from, message });
          if (got.length === everyMessage.length) resolve();
        });
      });
      for (const m of everyMessage) h.a.send("b", m);
      await done;
      assert.deepEqual(
        got.map((g) => g.from),
        everyMessage.map(() => "a"),
      );
      assert.deepEqual(
        got.map((g) => g.message),
        everyMessage,
      );
    });

    it("answers the other way on the reverse link", async () => {
      const reply = new Promise<PeerMessage>((resolve) => h.a.onMessage((_, m) => resolve(m)));
      h.b.onMessage((from, m) => {
        if (m.kind === "handoff") {
          h.b.send(from, {
            kind: "handoff_reply",
            requestId: m.requestId,
            outcome: { ok: false, code: "resume_expired", message: "x" },
          });
        }
      });
      h.a.send("b", { kind: "handoff", requestId: "r1", userId: "u", deviceId: "d", resumeToken: "t", lastSeq: 0 });
      assert.deepEqual(await reply, {
        kind: "handoff_reply",
        requestId: "r1",
        outcome: { ok: false, code: "resume_expired", message: "x" },
      });
    });
  });
}
