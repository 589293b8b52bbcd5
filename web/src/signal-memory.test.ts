import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createSignalMemory } from "./signal-memory.ts";

describe("signal memory", () => {
  it("gives back what was sent in a call, oldest first, once per command id", () => {
    const m = createSignalMemory<string>();
    m.sent("c1", "cmd-1", "offer");
    m.sent("c1", "cmd-2", "candidate a");
    m.sent("c2", "cmd-3", "other call");
    m.sent("c1", "cmd-1", "offer"); // a retry of the same command is not a new signal
    assert.deepEqual(m.toResend("c1"), [
      { commandId: "cmd-1", signal: "offer" },
      { commandId: "cmd-2", signal: "candidate a" },
    ]);
    assert.deepEqual(m.toResend("unknown"), []);
  });

  it("applies a relayed signal once: repeats after a resync are dropped, per call", () => {
    const m = createSignalMemory<string>();
    assert.equal(m.fresh("c1", "peer-1"), true);
    assert.equal(m.fresh("c1", "peer-2"), true);
    assert.equal(m.fresh("c1", "peer-1"), false);
    assert.equal(m.fresh("c2", "peer-1"), true, "ids are per call");
    assert.equal(m.fresh("c1", ""), true, "a signal without an id is always applied");
    assert.equal(m.fresh("c1", ""), true);
  });

  it("stays bounded: oldest signals and calls go first, and a forgotten call starts afresh", () => {
    const m = createSignalMemory<number>({ maxPerCall: 3, maxCalls: 2 });
    for (let i = 0; i < 5; i++) m.sent("c1", `cmd-${i}`, i);
    assert.deepEqual(
      m.toResend("c1").map((s) => s.signal),
      [2, 3, 4],
    );
    m.sent("c2", "x", 0);
    m.sent("c3", "y", 0);
    assert.deepEqual(m.toResend("c1"), [], "the oldest call was forgotten");
    assert.equal(m.fresh("c3", "p"), true);
    m.forget("c3");
    assert.deepEqual(m.toResend("c3"), []);
    assert.equal(m.fresh("c3", "p"), true, "forgotten with the call");
  });

  it("carries the applied ids across a page reload: resends of signals applied before it are dropped", () => {
    const before = createSignalMemory<string>();
    before.fresh("c1", "their-offer");
    before.fresh("c1", "their-candidate");
    const after = createSignalMemory<string>();
    after.restore("c1", before.applied("c1"));
    assert.deepEqual(after.applied("c1"), ["their-offer", "their-candidate"]);
    assert.equal(after.fresh("c1", "their-offer"), false);
    assert.equal(after.fresh("c1", "their-new-answer"), true);
    assert.deepEqual(after.toResend("c1"), [], "what the old page sent went with its connection");
  });
});
