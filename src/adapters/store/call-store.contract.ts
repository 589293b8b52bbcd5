/**
 * The CallStore contract (src/app/ports/call-store.ts), as one node:test suite that every
 * adapter runs: `callStoreContract("sqlite", () => …fresh store…)`.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { CallStore } from "../../app/ports/call-store.ts";
import type { CallEnd, CallInfo } from "../../domain/call-types.ts";
import { isDomainError } from "../../domain/errors.ts";
import type { QualitySample, QualitySummary } from "../../domain/quality.ts";
import type { CallRating } from "../../domain/rating.ts";

/** Opens an empty store; the suite closes it. */
export type OpenStore = () => Promise<CallStore>;

/** 2026-01-31 23:00 UTC: an hour before a month boundary. */
const t0 = Date.UTC(2026, 0, 31, 23, 0);
const minute = 60_000;
const day = 24 * 60 * minute;

/** A call from `caller` to `callee` that started at `at`, ringing for 30 s. */
export function callOf(callId: string, caller: string, callee: string, at: number, video = true): CallInfo {
  return {
    callId,
    caller: { userId: caller, deviceId: `${caller}-phone` },
    calleeUserId: callee,
    video,
    startedAtMs: at,
    ringDeadlineMs: at + 30_000,
  };
}

/** A finished, answered call's end. */
export function completed(call: CallInfo, answeredDeviceId = `${call.calleeUserId}-phone`): CallEnd {
  return {
    outcome: "completed",
    reason: "hangup",
    endedAtMs: call.startedAtMs + 90_000,
    answeredDeviceId,
    answeredAtMs: call.startedAtMs + 5_000,
    path: "relay",
    setupMs: 420,
  };
}

/** A ring timeout's end. */
export function missed(call: CallInfo): CallEnd {
  return { outcome: "missed", reason: "ring_timeout", endedAtMs: call.ringDeadlineMs };
}

/** A getStats() sample at `atMs`. */
export function sampleAt(atMs: number, frameHeight = 720): QualitySample {
  return {
    atMs,
    fractionLost: 0.015,
    jitterMs: 4.5,
    rttMs: 38.25,
    availableOutgoingBitrateBps: 1_250_000.5,
    sentBitrateBps: 1_100_000,
    frameWidth: (frameHeight * 16) / 9,
    frameHeight,
    framesPerSecond: 29.97,
    qualityStep: 1,
    qualityLimitationReason: "bandwidth",
    path: "p2p",
  };
}

/** A summary as written before scores existed (docs/spec.md §15): it must read back without one. */
const quality: QualitySummary = {
  samples: 12,
  avgFractionLost: 0.0125,
  avgJitterMs: 3.75,
  avgRttMs: 41.5,
  avgBitrateBps: 987_654,
  resolutionChanges: 2,
};

/** A scored summary of a poor call, with the user whose network was the cause. */
const poorQuality: QualitySummary = {
  ...quality,
  score: { medianMos: 2.4375, worstMos: 1.0625, verdict: "poor", poorNetworkUserId: "bob" },
};

/** A scored summary of a good call, naming nobody. */
const goodQuality: QualitySummary = { ...quality, score: { medianMos: 4.40625, worstMos: 3.875, verdict: "good" } };

/** Every page of a user's history, following cursors; fails on a repeated cursor. */
export async function allPages(store: CallStore, userId: string, limit: number, missedOnly = false): Promise<string[]> {
  const ids: string[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await store.listForUser({ userId, limit, missedOnly, ...(cursor ? { cursor } : {}) });
    assert.ok(page.calls.length <= limit, "page longer than limit");
    ids.push(...page.calls.map((c) => c.callId));
    cursor = page.nextCursor;
    if (cursor) {
      assert.ok(!seen.has(cursor), "cursor repeats");
      seen.add(cursor);
      assert.equal(page.calls.length, limit, "a page with a next cursor is full");
    }
  } while (cursor);
  return ids;
}

/** Registers the contract tests for one adapter. */
export function callStoreContract(name: string, open: OpenStore): void {
  const withStore = (title: string, fn: (store: CallStore) => Promise<void>) =>
    test(title, async () => {
      const store = await open();
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    });

  describe(`CallStore contract: ${name}`, () => {
    withStore("a started call reads back as recorded; unknown ids are undefined", async (store) => {
      const call = callOf("c1", "alice", "bob", t0, false);
      await store.recordStart(call);
      const got = await store.get("c1");
      assert.ok(got);
      assert.deepEqual(
        {
          callId: got.callId,
          caller: got.caller,
          calleeUserId: got.calleeUserId,
          video: got.video,
          startedAtMs: got.startedAtMs,
          ringDeadlineMs: got.ringDeadlineMs,
        },
        call,
      );
      assert.equal(got.outcome, undefined);
      assert.equal(got.answeredDeviceId, undefined);
      assert.equal(await store.get("nope"), undefined);
    });

    withStore("a retried start never duplicates the call", async (store) => {
      const call = callOf("c1", "alice", "bob", t0);
      await store.recordStart(call);
      await store.recordStart(call);
      await Promise.all([store.recordStart(call), store.recordStart(call)]);
      assert.deepEqual(await allPages(store, "alice", 10), ["c1"]);
      assert.deepEqual(await allPages(store, "bob", 10), ["c1"]);
    });

    withStore("the answer is recorded once; later answers and answers to unknown calls are no-ops", async (store) => {
      await store.recordStart(callOf("c1", "alice", "bob", t0));
      await store.recordAnswer("c1", "bob-tablet", t0 + 4000);
      await store.recordAnswer("c1", "bob-phone", t0 + 5000);
      await store.recordAnswer("ghost", "bob-phone", t0);
      const got = await store.get("c1");
      assert.equal(got?.answeredDeviceId, "bob-tablet");
      assert.equal(got?.answeredAtMs, t0 + 4000);
      assert.equal(await store.get("ghost"), undefined);
      const [listed] = (await store.listForUser({ userId: "bob", limit: 5, missedOnly: false })).calls;
      assert.equal(listed?.answeredDeviceId, "bob-tablet");
    });

    withStore("finalize sets the outcome once and returns whether it did", async (store) => {
      const call = callOf("c1", "alice", "bob", t0);
      await store.recordStart(call);
      await store.recordAnswer("c1", "bob-phone", t0 + 5000);
      const end = completed(call);
      assert.equal(await store.finalize(call, end, quality), true);
      assert.equal(await store.finalize(call, end, quality), false, "retry");
      assert.equal(await store.finalize(call, missed(call)), false, "other outcome");
      await store.recordAnswer("c1", "bob-tablet", t0 + 9000);
      const got = await store.get("c1");
      assert.ok(got);
      assert.equal(got.outcome, "completed");
      assert.equal(got.endReason, "hangup");
      assert.equal(got.endedAtMs, end.endedAtMs);
      assert.equal(got.answeredDeviceId, "bob-phone");
      assert.equal(got.answeredAtMs, t0 + 5000);
      assert.equal(got.path, "relay");
      assert.equal(got.setupMs, 420);
      assert.deepEqual(got.quality, quality);
      for (const user of ["alice", "bob"]) {
        const [listed] = (await store.listForUser({ userId: user, limit: 5, missedOnly: false })).calls;
        assert.deepEqual(listed, got, `history of ${user} matches GetCall`);
      }
    });

    withStore(
      "the quality score round-trips in GetCall and both histories; an unscored summary stays unscored",
      async (store) => {
        const scored = [
          ["poor", poorQuality],
          ["good", goodQuality],
          ["unscored", quality],
        ] as const;
        for (const [i, [id, summary]] of scored.entries()) {
          const call = callOf(id, "alice", "bob", t0 + i * minute);
          await store.recordStart(call);
          assert.equal(await store.finalize(call, completed(call), summary), true);
        }
        for (const [id, summary] of scored) {
          const got = await store.get(id);
          assert.deepEqual(got?.quality, summary, `${id} call's quality`);
          for (const user of ["alice", "bob"]) {
            const listed = (await store.listForUser({ userId: user, limit: 5, missedOnly: false })).calls;
            assert.deepEqual(
              listed.find((c) => c.callId === id),
              got,
              `history of ${user} matches GetCall for the ${id} call`,
            );
          }
        }
        assert.equal((await store.get("unscored"))?.quality?.score, undefined);
      },
    );

    withStore(
      "ratings (docs/spec.md §15): each side's round-trips in GetCall and both histories, a later one replaces it",
      async (store) => {
        const call = callOf("rated", "alice", "bob", t0);
        await store.recordStart(call);
        assert.equal(await store.finalize(call, completed(call), goodQuality), true);
        const bobs: CallRating = {
          score: 2,
          reasons: ["audio_choppy", "echo"],
          comment: "robot voice",
          ratedAtMs: t0 + 2 * minute,
        };
        await store.rate("rated", "callee", bobs);
        await store.rate("rated", "callee", bobs); // a retry
        let got = await store.get("rated");
        assert.deepEqual(got?.calleeRating, bobs);
        assert.equal(got?.callerRating, undefined);
        const alices: CallRating = { score: 5, reasons: [], ratedAtMs: t0 + 3 * minute };
        await store.rate("rated", "caller", { score: 1, reasons: ["other"], ratedAtMs: t0 + 2 * minute });
        await store.rate("rated", "caller", alices);
        got = await store.get("rated");
        assert.deepEqual(got?.callerRating, alices, "the later rating replaced the first");
        assert.deepEqual(got?.calleeRating, bobs);
        assert.deepEqual(got?.quality, goodQuality, "rating leaves the rest of the call alone");
        assert.equal(got?.outcome, "completed");
        for (const user of ["alice", "bob"]) {
          const [listed] = (await store.listForUser({ userId: user, limit: 5, missedOnly: false })).calls;
          assert.deepEqual(listed, got, `history of ${user} matches GetCall`);
        }
      },
    );

    withStore("a missed/answered race yields exactly one outcome", async (store) => {
      for (let i = 0; i < 5; i++) {
        const call = callOf(`race-${i}`, "alice", "bob", t0 + i * minute);
        await store.recordStart(call);
        const results = await Promise.all([
          store.finalize(call, missed(call)),
          store.finalize(call, completed(call)),
          store.finalize(call, missed(call)),
        ]);
        assert.equal(results.filter(Boolean).length, 1, `one winner in ${results}`);
        const got = await store.get(call.callId);
        const winner = results[1] ? "completed" : "missed";
        assert.equal(got?.outcome, winner);
        const missedIds = await allPages(store, "bob", 10, true);
        assert.equal(missedIds.includes(call.callId), winner === "missed");
      }
    });

    withStore("finalize records a call whose start was never written", async (store) => {
      const call = callOf("lost-start", "alice", "bob", t0);
      assert.equal(await store.finalize(call, missed(call)), true);
      const got = await store.get("lost-start");
      assert.equal(got?.outcome, "missed");
      assert.equal(got?.caller.userId, "alice");
      assert.equal(got?.startedAtMs, t0);
      assert.deepEqual(await allPages(store, "alice", 5), ["lost-start"]);
      assert.deepEqual(await allPages(store, "bob", 5, true), ["lost-start"]);
    });

    withStore("history is newest first, paged across month boundaries, each call once", async (store) => {
      // 12 calls every 6 h from Jan 30 to Feb 2 (crosses a month), plus ties on start time.
      const expected: string[] = [];
      for (let i = 0; i < 12; i++) {
        const at = t0 - day + i * 6 * 60 * minute;
        const call = i % 2 === 0 ? callOf(`h${i}`, "alice", "bob", at) : callOf(`h${i}`, "bob", "alice", at);
        await store.recordStart(call);
        expected.unshift(call.callId);
      }
      await store.recordStart(callOf("tie-a", "carol", "alice", t0 + 7 * day));
      await store.recordStart(callOf("tie-b", "alice", "dave", t0 + 7 * day));
      await store.recordStart(callOf("other", "carol", "dave", t0));
      const all = ["tie-b", "tie-a", ...expected];
      for (const limit of [1, 2, 5, 14, 100]) {
        assert.deepEqual(await allPages(store, "alice", limit), all, `limit ${limit}`);
      }
      assert.deepEqual(await allPages(store, "bob", 4), expected);
      const full = await store.listForUser({ userId: "alice", limit: 14, missedOnly: false });
      assert.equal(full.nextCursor, undefined, "no cursor when the page holds the rest exactly");
      assert.deepEqual(await allPages(store, "nobody", 10), []);
    });

    withStore("missedOnly lists calls the user missed as callee, across months", async (store) => {
      const want: string[] = [];
      for (let i = 0; i < 9; i++) {
        const at = t0 - 40 * day + i * 10 * day;
        const call = callOf(`m${i}`, i === 4 ? "bob" : "alice", i === 4 ? "alice" : "bob", at);
        await store.recordStart(call);
        if (i % 3 === 0) await store.finalize(call, completed(call));
        else if (i % 3 === 1) await store.finalize(call, missed(call));
        if (i % 3 === 1 && i !== 4) want.unshift(call.callId);
      }
      const declined = callOf("declined", "alice", "bob", t0);
      await store.finalize(declined, { outcome: "declined", reason: "declined", endedAtMs: t0 + 2000 });
      assert.deepEqual(await allPages(store, "bob", 1, true), want);
      assert.deepEqual(await allPages(store, "bob", 2, true), want);
      assert.deepEqual(await allPages(store, "alice", 2, true), ["m4"]);
      const page = await store.listForUser({ userId: "bob", limit: 10, missedOnly: true });
      assert.ok(page.calls.every((c) => c.outcome === "missed" && c.calleeUserId === "bob"));
    });

    withStore("a malformed page token is invalid_argument", async (store) => {
      await assert.rejects(
        store.listForUser({ userId: "alice", limit: 5, missedOnly: false, cursor: "not-a-token" }),
        (e: unknown) => isDomainError(e, "invalid_argument"),
      );
    });

    withStore("sample windows come back expanded, oldest first per call, each once", async (store) => {
      await store.recordStart(callOf("c1", "alice", "bob", t0));
      const { path: _, ...noPath } = sampleAt(t0 + 1000, 540);
      const first = [
        { ...sampleAt(t0 + 3000), userId: "alice" },
        { ...sampleAt(t0 + 2000, 360), userId: "bob" },
      ];
      const second = [{ ...noPath, userId: "alice" }];
      await store.addSampleWindow("c1", { key: "1-n1-0", samples: first });
      await store.addSampleWindow("c1", { key: "2-n1-1", samples: second });
      await store.addSampleWindow("c1", { key: "3-n1-2", samples: [] });
      await store.addSampleWindow("c2", { key: "1-n1-0", samples: [{ ...sampleAt(t0), userId: "alice" }] });
      assert.deepEqual(await store.listSamples("c1"), [second[0], first[1], first[0]]);
      assert.deepEqual(await store.listSamples("none"), []);
    });

    withStore(
      "the relay protocol round-trips in samples, GetCall and both histories (docs/spec.md §7)",
      async (store) => {
        const call = callOf("tls", "alice", "bob", t0);
        await store.recordStart(call);
        const relayed = (atMs: number, relayProtocol: "udp" | "tls"): QualitySample => ({
          ...sampleAt(atMs),
          path: "relay",
          relayProtocol,
        });
        await store.addSampleWindow("tls", {
          key: "1-n1-0",
          samples: [
            { ...relayed(t0 + 1000, "udp"), userId: "alice" },
            { ...relayed(t0 + 2000, "tls"), userId: "bob" },
          ],
        });
        assert.deepEqual(
          (await store.listSamples("tls")).map((s) => [s.userId, s.path, s.relayProtocol]),
          [
            ["alice", "relay", "udp"],
            ["bob", "relay", "tls"],
          ],
        );
        const summary: QualitySummary = { ...goodQuality, relayProtocol: "tls" };
        assert.equal(await store.finalize(call, completed(call), summary), true);
        const got = await store.get("tls");
        assert.deepEqual(got?.quality, summary);
        for (const user of ["alice", "bob"]) {
          const [listed] = (await store.listForUser({ userId: user, limit: 5, missedOnly: false })).calls;
          assert.deepEqual(listed, got, `history of ${user} matches GetCall`);
        }
        assert.equal((await store.get("tls"))?.quality?.relayProtocol, "tls");
      },
    );

    withStore("a retried window write does not duplicate its samples", async (store) => {
      const window = {
        key: "1-n1-0",
        samples: [sampleAt(t0 + 1000), sampleAt(t0 + 2000)].map((s) => ({ ...s, userId: "alice" })),
      };
      await store.addSampleWindow("c1", window);
      await store.addSampleWindow("c1", window);
      assert.equal((await store.listSamples("c1")).length, 2);
    });

    withStore("a sample in two windows (a report retried to the call's next owner) is listed once", async (store) => {
      const s = { ...sampleAt(t0 + 1000), userId: "bob" };
      await store.addSampleWindow("c1", { key: "1-n1-0", samples: [s] });
      await store.addSampleWindow("c1", { key: "5-n2-0", samples: [s, { ...s, atMs: t0 + 6000 }] });
      assert.deepEqual(
        (await store.listSamples("c1")).map((x) => x.atMs),
        [t0 + 1000, t0 + 6000],
      );
    });

    withStore("a call's many windows are all listed", async (store) => {
      for (let w = 0; w < 40; w++) {
        const samples = Array.from({ length: 12 }, (_, i) => ({
          ...sampleAt(t0 + w * 30_000 + i * 2500),
          userId: i % 2 ? "bob" : "alice",
        }));
        await store.addSampleWindow("c1", { key: `${t0 + w * 30_000}-n1-${w}`, samples });
      }
      const got = await store.listSamples("c1");
      assert.equal(got.length, 480);
      assert.ok(got.every((s, i) => i === 0 || (got[i - 1]?.atMs ?? 0) <= s.atMs));
    });

    withStore(
      "overdue ringing: not answered, no outcome, deadline before the bound, oldest first, limited",
      async (store) => {
        const now = t0 + 10 * minute;
        const calls = [0, 1, 2, 3, 4, 5].map((i) =>
          callOf(`r${i}`, "alice", `callee${i}`, now - 9 * minute + i * minute),
        );
        for (const call of calls) await store.recordStart(call);
        const [c0, c1, c2, c3] = calls as [CallInfo, CallInfo, CallInfo, CallInfo];
        await store.finalize(c1, missed(c1));
        await store.recordAnswer(c2.callId, "callee2-phone", c2.startedAtMs + 1000);
        await store.recordStart(c1); // a late retry of the start must not revive it
        await store.recordStart(c2); // nor an answered call's
        const before = c3.ringDeadlineMs + 1;
        const ids = (list: readonly { callId: string }[]) => list.map((c) => c.callId);
        assert.deepEqual(ids(await store.listOverdueRinging(before, 10)), ["r0", "r3"]);
        assert.deepEqual(ids(await store.listOverdueRinging(before, 1)), ["r0"]);
        assert.deepEqual(ids(await store.listOverdueRinging(c0.ringDeadlineMs, 10)), []);
        await store.finalize(c0, missed(c0));
        assert.deepEqual(ids(await store.listOverdueRinging(now + minute, 10)), ["r3", "r4", "r5"]);
        const [first] = await store.listOverdueRinging(before, 1);
        assert.equal(first?.callId, "r3");
        assert.equal(first?.answeredDeviceId, undefined);
      },
    );
  });
}
