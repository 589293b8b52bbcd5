/**
 * The CallDirectory contract (docs/style.md 5): one suite, run against every adapter.
 * `open` may be called several times on one harness: such instances share the
 * directory (as the server processes of one cluster do).
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { CallDirectory, LiveCall } from "../../app/ports/call-directory.ts";
import type { CallState } from "../../domain/call-types.ts";

type Ringing = Extract<CallState, { phase: "ringing" }>;

/** Directories sharing one backing store. */
export interface CallDirectoryHarness {
  open(): CallDirectory;
  close(): Promise<void>;
}

let n = 0;
/** A ringing call from `caller` to `callee` with a fresh id. */
export function ringing(caller: string, callee: string): Ringing {
  n++;
  const callId = `00000000-0000-7000-8000-${String(n).padStart(12, "0")}`;
  return {
    phase: "ringing",
    call: {
      callId,
      caller: { userId: caller, deviceId: "d1" },
      calleeUserId: callee,
      video: true,
      startedAtMs: 1_000,
      ringDeadlineMs: 31_000,
    },
    ringing: ["p1"],
    pushed: false,
  };
}

/** Registers the contract tests for one adapter. */
export function callDirectoryContract(title: string, createHarness: () => CallDirectoryHarness): void {
  describe(`CallDirectory contract: ${title}`, () => {
    let h: CallDirectoryHarness;
    let dir: CallDirectory;
    beforeEach(() => {
      h = createHarness();
      dir = h.open();
    });
    afterEach(() => h.close());

    it("claims both users and finds the call by id, by either user and by owner", async () => {
      const s = ringing("alice", "bob");
      assert.deepEqual(await dir.claim(s, "n1"), { ok: true });
      const live: LiveCall = { callId: s.call.callId, ownerNodeId: "n1", state: s };
      assert.deepEqual(await dir.find(s.call.callId), live);
      assert.deepEqual(await dir.findByUser("alice"), live);
      assert.deepEqual(await dir.findByUser("bob"), live);
      assert.deepEqual(await dir.ownedBy("n1", 10), [live]);
      assert.deepEqual(await dir.ownedBy("n2", 10), []);
      assert.equal(await dir.findByUser("carol"), undefined);
    });

    it("refuses a claim when the caller or the callee is in a live call, writing nothing", async () => {
      const first = ringing("alice", "bob");
      await dir.claim(first, "n1");
      const busy = await dir.claim(ringing("carol", "bob"), "n2");
      assert.equal(busy.ok, false);
      assert.equal(!busy.ok && busy.callee?.callId, first.call.callId);
      assert.equal(!busy.ok && busy.caller, undefined);
      const glare = await dir.claim(ringing("bob", "alice"), "n2");
      assert.equal(!glare.ok && glare.caller?.callId, first.call.callId);
      assert.equal(!glare.ok && glare.callee?.callId, first.call.callId);
      assert.equal(await dir.findByUser("carol"), undefined, "the refused claim wrote nothing");
    });

    it("of racing claims over the same user exactly one wins, across instances", async () => {
      const other = h.open();
      const results = await Promise.all([
        dir.claim(ringing("u1", "u2"), "n1"),
        other.claim(ringing("u2", "u1"), "n2"),
        other.claim(ringing("u3", "u2"), "n2"),
        dir.claim(ringing("u2", "u4"), "n1"),
      ]);
      assert.equal(results.filter((r) => r.ok).length, 1);
    });

    it("stores phase changes, and releases users when the call ends", async () => {
      const s = ringing("alice", "bob");
      await dir.claim(s, "n1");
      const answered: LiveCall["state"] = {
        phase: "connecting",
        call: s.call,
        answeredDeviceId: "p1",
        answeredAtMs: 2_000,
        setupDeadlineMs: 32_000,
        candidates: 0,
      };
      await dir.update(answered);
      assert.deepEqual((await h.open().find(s.call.callId))?.state, answered);
      await dir.release(s.call.callId);
      assert.equal(await dir.find(s.call.callId), undefined);
      assert.equal(await dir.findByUser("alice"), undefined);
      assert.deepEqual(await dir.claim(ringing("bob", "alice"), "n1"), { ok: true });
      await dir.update({ ...answered, call: { ...answered.call, callId: "gone" } }); // not live: no-op
      assert.equal(await dir.find("gone"), undefined);
    });

    it("an ended call no longer makes its users busy, and its release leaves their new call alone", async () => {
      const first = ringing("alice", "bob");
      await dir.claim(first, "n1");
      await dir.update({
        phase: "ended",
        call: first.call,
        end: { outcome: "declined", reason: "declined", endedAtMs: 2_000 },
      });
      assert.equal((await dir.findByUser("alice"))?.state.phase, "ended");
      const second = ringing("alice", "bob");
      assert.deepEqual(await dir.claim(second, "n2"), { ok: true });
      await dir.release(first.call.callId);
      assert.equal((await dir.findByUser("alice"))?.callId, second.call.callId);
      assert.equal((await dir.findByUser("bob"))?.callId, second.call.callId);
    });

    describe('call waiting (docs/spec.md §14 "Call waiting")', () => {
      const waiting = (caller: string, callee: string): Ringing => {
        const s = ringing(caller, callee);
        return { ...s, call: { ...s.call, waiting: true } };
      };
      const answer = (s: Ringing): LiveCall["state"] => ({
        phase: "connecting",
        call: s.call,
        answeredDeviceId: "p1",
        answeredAtMs: 2_000,
        setupDeadlineMs: 32_000,
        candidates: 0,
      });
      const end = (s: Ringing): LiveCall["state"] => ({
        phase: "ended",
        call: s.call,
        end: { outcome: "completed", reason: "hangup", endedAtMs: 3_000 },
      });

      it("lets one waiting call ring a callee in an answered call; a third call is busy", async () => {
        const first = ringing("alice", "bob");
        await dir.claim(first, "n1");
        await dir.update(answer(first));
        const second = waiting("carol", "bob");
        assert.deepEqual(await dir.claim(second, "n2"), { ok: true });
        assert.deepEqual(
          (await dir.callsOfUser("bob")).map((c) => c.callId).sort(),
          [first.call.callId, second.call.callId].sort(),
        );
        assert.equal((await dir.findByUser("bob"))?.callId, first.call.callId, "the answered call first");
        assert.deepEqual(await dir.findByUser("carol"), {
          callId: second.call.callId,
          ownerNodeId: "n2",
          state: second,
        });
        for (const third of [
          waiting("dave", "bob"),
          ringing("dave", "bob"),
          ringing("dave", "carol"),
          waiting("dave", "carol"),
        ]) {
          const r = await dir.claim(third, "n1");
          assert.equal(r.ok, false);
        }
        const busy = await dir.claim(waiting("dave", "bob"), "n1");
        assert.ok(!busy.ok && busy.callee !== undefined && busy.caller === undefined);
        assert.deepEqual(await dir.findByUser("dave"), undefined, "refused claims wrote nothing");
        const fromBob = await dir.claim(ringing("bob", "erin"), "n1");
        assert.equal(!fromBob.ok && fromBob.caller?.callId, first.call.callId, "a user in a call starts none");
      });

      it("gives a ringing callee no waiting call (glare stays one call), and names no callee when the callee is free", async () => {
        const first = ringing("alice", "bob");
        await dir.claim(first, "n1");
        const ringingBob = await dir.claim(waiting("carol", "bob"), "n2");
        assert.equal(!ringingBob.ok && ringingBob.callee?.callId, first.call.callId);
        const glare = await dir.claim(waiting("bob", "alice"), "n2");
        assert.equal(!glare.ok && glare.caller?.callId, first.call.callId);
        const free = await dir.claim(waiting("carol", "dave"), "n2");
        assert.deepEqual(free, { ok: false });
      });

      it("End & accept: the first call's release leaves the waiting call, which keeps its callee busy until it ends", async () => {
        const first = ringing("alice", "bob");
        await dir.claim(first, "n1");
        await dir.update(answer(first));
        const second = waiting("carol", "bob");
        await dir.claim(second, "n2");
        await dir.update(end(first));
        await dir.update(answer(second));
        await dir.release(first.call.callId);
        assert.deepEqual(
          (await h.open().callsOfUser("bob")).map((c) => c.callId),
          [second.call.callId],
        );
        assert.equal((await dir.claim(ringing("dave", "bob"), "n1")).ok, false);
        assert.deepEqual(await dir.claim(ringing("alice", "erin"), "n1"), { ok: true }, "alice is free");
        const next = waiting("frank", "bob");
        assert.deepEqual(await dir.claim(next, "n1"), { ok: true }, "the answered call may have a waiting call again");
        await dir.release(second.call.callId);
        await dir.release(next.call.callId);
        assert.deepEqual(await dir.callsOfUser("bob"), []);
        assert.deepEqual(await dir.claim(ringing("dave", "bob"), "n1"), { ok: true });
      });

      it("of racing waiting calls to one callee exactly one rings, across instances", async () => {
        const first = ringing("alice", "bob");
        await dir.claim(first, "n1");
        await dir.update(answer(first));
        const other = h.open();
        const results = await Promise.all([
          dir.claim(waiting("w1", "bob"), "n1"),
          other.claim(waiting("w2", "bob"), "n2"),
          other.claim(waiting("w3", "bob"), "n2"),
        ]);
        assert.equal(results.filter((r) => r.ok).length, 1);
        assert.equal((await dir.callsOfUser("bob")).length, 2);
      });
    });

    it("lists every live call in pages", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const s = ringing(`p${i}`, `q${i}`);
        await dir.claim(s, "n1");
        ids.push(s.call.callId);
      }
      const first = await dir.list("", 3);
      const rest = await dir.list(first.at(-1)?.callId ?? "", 3);
      assert.deepEqual(
        [...first, ...rest].map((c) => c.callId),
        ids,
      );
    });

    it("moves a call to exactly one of several nodes taking it over", async () => {
      const s = ringing("alice", "bob");
      await dir.claim(s, "dead");
      const other = h.open();
      const won = await Promise.all([
        dir.takeOver(s.call.callId, "dead", "n1"),
        other.takeOver(s.call.callId, "dead", "n2"),
      ]);
      assert.deepEqual(won.filter(Boolean).length, 1);
      const owner = won[0] ? "n1" : "n2";
      assert.equal((await dir.find(s.call.callId))?.ownerNodeId, owner);
      assert.equal(await dir.takeOver(s.call.callId, "dead", "n3"), false);
      assert.equal(await dir.takeOver("missing", "dead", "n3"), false);
      assert.deepEqual([...(await dir.ownedIds(owner))], [s.call.callId], "the owner index follows the takeover");
      assert.equal((await dir.ownedIds("dead")).size, 0);
    });

    it("lists the ids a node owns from its owner index, and forgets released calls", async () => {
      const a = ringing("alice", "bob");
      const b = ringing("carol", "dave");
      const c = ringing("erin", "frank");
      await dir.claim(a, "n1");
      await dir.claim(b, "n1");
      await dir.claim(c, "n2");
      assert.deepEqual([...(await dir.ownedIds("n1"))].sort(), [a.call.callId, b.call.callId].sort());
      await dir.release(a.call.callId);
      assert.deepEqual([...(await dir.ownedIds("n1"))], [b.call.callId]);
      assert.deepEqual([...(await dir.ownedIds("n2"))], [c.call.callId]);
      assert.equal((await dir.ownedIds("nobody")).size, 0);
    });
  });
}
