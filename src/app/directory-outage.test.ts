/** Calls during a call-directory outage: the local claim, the bounded wait, the deferred claim. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { createManualClock } from "../adapters/clock/manual-clock.ts";
import { ringing } from "../adapters/directory/call-directory.contract.ts";
import { createMemoryCallDirectory } from "../adapters/directory/memory-call-directory.ts";
import type { CallState } from "../domain/call-types.ts";
import { DomainError } from "../domain/errors.ts";
import { claimWhenBack, createDirectoryWaits, DIRECTORY_WAIT_MS, localClaim } from "./directory-outage.ts";
import type { CallDirectory } from "./ports/call-directory.ts";

const logger = pino({ level: "silent" });
const ended = (state: ReturnType<typeof ringing>): CallState =>
  ({
    phase: "ended",
    call: state.call,
    end: { outcome: "cancelled", reason: "test", endedAtMs: 2_000 },
  }) as unknown as CallState;

/** Settles pending promise callbacks (no timers involved). */
const drain = () => new Promise((r) => setImmediate(r));

describe("directory outage", () => {
  it("decides busy and glare among the node's own calls", () => {
    const aliceBob = ringing("alice", "bob");
    const carolDave = ringing("carol", "dave");
    const states = [aliceBob, carolDave, ended(ringing("erin", "frank"))];
    assert.deepEqual(
      localClaim(states, ringing("gina", "erin"), "me"),
      { ok: true },
      "an ended call makes nobody busy",
    );
    const busy = localClaim(states, ringing("gina", "bob"), "me");
    assert.equal(busy.ok, false);
    assert.equal(!busy.ok && busy.callee?.callId, aliceBob.call.callId);
    assert.equal(!busy.ok && busy.caller, undefined);
    const glare = localClaim(states, ringing("bob", "alice"), "me");
    assert.equal(!glare.ok && glare.caller?.callId, aliceBob.call.callId);
    assert.equal(!glare.ok && glare.caller?.ownerNodeId, "me");
    assert.deepEqual(localClaim([aliceBob], aliceBob, "me"), { ok: true }, "a call does not conflict with itself");
  });

  it("answers at once when the write lands, after the bound when it does not, and fails with a write that fails", async () => {
    const clock = createManualClock();
    const waits = createDirectoryWaits(clock);
    let landed = false;
    await waits.acknowledge(Promise.resolve()).then(() => (landed = true));
    assert.ok(landed);
    assert.equal(clock.pending(), 0, "no timer left behind");
    await assert.rejects(waits.acknowledge(Promise.reject(new Error("bug"))), /bug/);
    assert.equal(clock.pending(), 0);

    let answered = false;
    let land: () => void = () => {};
    const slowWrite = new Promise<void>((r) => (land = r));
    const slow = waits.acknowledge(slowWrite).then(() => (answered = true));
    clock.advance(DIRECTORY_WAIT_MS - 1);
    await drain();
    assert.equal(answered, false);
    clock.advance(1);
    await slow;
    assert.ok(answered);

    // Known to be down: the next write is not waited for at all …
    let next = false;
    await waits.acknowledge(new Promise<void>(() => {})).then(() => (next = true));
    assert.ok(next);
    assert.equal(clock.pending(), 0);
    // … until a write lands again.
    land();
    await drain();
    let waited = false;
    const again = waits.acknowledge(new Promise<void>(() => {})).then(() => (waited = true));
    await drain();
    assert.equal(waited, false);
    clock.advance(DIRECTORY_WAIT_MS);
    await again;
  });

  it("does not wait once a claim found the directory down", async () => {
    const clock = createManualClock();
    const waits = createDirectoryWaits(clock);
    waits.down();
    await waits.acknowledge(new Promise<void>(() => {}));
    assert.equal(clock.pending(), 0);
  });

  it("writes a deferred claim once the directory is back, and gives up on a conflict", async () => {
    const clock = createManualClock();
    const inner = createMemoryCallDirectory();
    let down = true;
    let attempts = 0;
    const flaky: CallDirectory = {
      ...inner,
      claim(state, owner) {
        attempts++;
        if (down) return Promise.reject(new DomainError("unavailable", "call directory unavailable"));
        return inner.claim(state, owner);
      },
    };
    const call = ringing("alice", "bob");
    let done = false;
    const claimed = claimWhenBack({ directory: flaky, clock, logger }, call, "me").then(() => (done = true));
    for (let i = 0; i < 5; i++) {
      await drain();
      clock.advance(5_000);
    }
    assert.equal(done, false);
    assert.ok(attempts >= 4, `retried ${attempts} times`);
    down = false;
    clock.advance(5_000);
    await claimed;
    assert.equal((await inner.find(call.call.callId))?.ownerNodeId, "me");

    // Another node took bob meanwhile: this call stays unlisted, nothing is overwritten.
    await inner.release(call.call.callId);
    const other = ringing("carol", "bob");
    assert.ok((await inner.claim(other, "them")).ok);
    const late = ringing("dave", "bob");
    await claimWhenBack({ directory: flaky, clock, logger }, late, "me");
    assert.equal(await inner.find(late.call.callId), undefined);
    assert.equal((await inner.findByUser("carol"))?.callId, other.call.callId);
  });

  it("stops retrying a deferred claim after a minute of outage", async () => {
    const clock = createManualClock();
    const down: CallDirectory = {
      ...createMemoryCallDirectory(),
      claim: () => Promise.reject(new DomainError("unavailable", "call directory unavailable")),
    };
    let done = false;
    const claimed = claimWhenBack({ directory: down, clock, logger }, ringing("a", "b"), "me").then(
      () => (done = true),
    );
    for (let i = 0; i < 11 && !done; i++) {
      await drain();
      clock.advance(5_000);
    }
    await drain();
    assert.equal(done, false, "still trying within the minute");
    for (let i = 0; i < 5 && !done; i++) {
      clock.advance(5_000);
      await drain();
    }
    await claimed;
    assert.ok(done);
  });
});
