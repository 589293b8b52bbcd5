/**
 * Unit tests of the history record's protobuf encoding: the quality score and the ratings
 * (docs/spec.md §15), and the relay protocol of samples and summaries (§7).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { PathType, QualityVerdict, RatingReason, RelayProtocol } from "../../gen/calldrop/v1/call_pb.js";
import { ClientMessageSchema } from "../../gen/calldrop/v1/signal_pb.js";
import type { CallRecord } from "../app/ports/call-store.ts";
import { commandFromProto, ratingReasonsFromPb, recordToProto } from "./proto-mapping.ts";

const record: CallRecord = {
  callId: "c1",
  caller: { userId: "alice", deviceId: "a1" },
  calleeUserId: "bob",
  video: true,
  startedAtMs: 1_000,
  ringDeadlineMs: 61_000,
};
const averages = {
  samples: 12,
  avgFractionLost: 0.2,
  avgJitterMs: 9,
  avgRttMs: 70,
  avgBitrateBps: 300_000,
  resolutionChanges: 1,
};

test("a record's quality score is encoded with its verdict and whose network was poor", () => {
  const score = { medianMos: 2.4, worstMos: 1.9, verdict: "poor", poorNetworkUserId: "bob" } as const;
  const pb = recordToProto({ ...record, quality: { ...averages, score } });
  assert.equal(pb.quality?.score?.medianMos, 2.4);
  assert.equal(pb.quality?.score?.worstMos, 1.9);
  assert.equal(pb.quality?.score?.verdict, QualityVerdict.POOR);
  assert.equal(pb.quality?.score?.poorNetworkUserId, "bob");
  for (const [verdict, pbVerdict] of [
    ["good", QualityVerdict.GOOD],
    ["fair", QualityVerdict.FAIR],
  ] as const) {
    const q = recordToProto({ ...record, quality: { ...averages, score: { ...score, verdict } } }).quality;
    assert.equal(q?.score?.verdict, pbVerdict);
  }
});

test("a score naming nobody has an empty user, and a record from before scores has none", () => {
  const score = { medianMos: 4.3, worstMos: 4.1, verdict: "good" } as const;
  assert.equal(recordToProto({ ...record, quality: { ...averages, score } }).quality?.score?.poorNetworkUserId, "");
  const old = recordToProto({ ...record, quality: averages });
  assert.equal(old.quality?.samples, 12);
  assert.equal(old.quality?.score, undefined);
});

test("a reader sees only their own rating, a service both, and rating_requested as the view says", () => {
  const rated: CallRecord = {
    ...record,
    callerRating: { score: 4, reasons: ["echo", "other"], comment: "fine", ratedAtMs: 90_000 },
    calleeRating: { score: 2, reasons: [], ratedAtMs: 91_000 },
  };
  const alice = recordToProto(rated, { ratingRequested: true, readerUserId: "alice" });
  assert.equal(alice.ratingRequested, true);
  assert.equal(alice.callerRating?.score, 4);
  assert.deepEqual(alice.callerRating?.reasons, [RatingReason.ECHO, RatingReason.OTHER]);
  assert.equal(alice.callerRating?.comment, "fine");
  assert.equal(Number(alice.callerRating?.ratedAt?.seconds), 90);
  assert.equal(alice.calleeRating, undefined, "bob's rating is not shown to alice");
  const bob = recordToProto(rated, { ratingRequested: true, readerUserId: "bob" });
  assert.equal(bob.callerRating, undefined);
  assert.equal(bob.calleeRating?.score, 2);
  const service = recordToProto(rated, { ratingRequested: false });
  assert.equal(service.ratingRequested, false);
  assert.deepEqual([service.callerRating?.score, service.calleeRating?.score], [4, 2]);
});

test("rating reasons decode to their domain names; unspecified and unknown numbers stay recognisably unknown", () => {
  assert.deepEqual(
    ratingReasonsFromPb([RatingReason.AUDIO_CHOPPY, RatingReason.COULD_NOT_HEAR, RatingReason.DROPPED]),
    ["audio_choppy", "could_not_hear", "dropped"],
  );
  assert.deepEqual(ratingReasonsFromPb([RatingReason.UNSPECIFIED, 42 as RatingReason]), ["0", "42"]);
});

test("a quality report's relay protocol decodes to udp, tcp or tls; unspecified and unknown numbers to none", () => {
  const decode = (relayProtocol: RelayProtocol) => {
    const m = create(ClientMessageSchema, {
      kind: {
        case: "qualityReport",
        value: { callId: "c1", sample: { atMs: 5n, path: PathType.RELAY, relayProtocol } },
      },
    });
    const c = commandFromProto(m);
    assert.equal(c.kind, "quality_report");
    return c.kind === "quality_report" ? c.sample.relayProtocol : "not a report";
  };
  assert.equal(decode(RelayProtocol.UDP), "udp");
  assert.equal(decode(RelayProtocol.TCP), "tcp");
  assert.equal(decode(RelayProtocol.TLS), "tls");
  assert.equal(decode(RelayProtocol.UNSPECIFIED), undefined);
  assert.equal(decode(9 as RelayProtocol), undefined);
});

test("a summary's relay protocol is encoded; none is unspecified", () => {
  assert.equal(
    recordToProto({ ...record, quality: { ...averages, relayProtocol: "tls" } }).quality?.relayProtocol,
    RelayProtocol.TLS,
  );
  assert.equal(recordToProto({ ...record, quality: averages }).quality?.relayProtocol, RelayProtocol.UNSPECIFIED);
});
