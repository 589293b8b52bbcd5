import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { createManualClock } from "../adapters/clock/manual-clock.ts";
import { createMetrics } from "../adapters/metrics/service-metrics.ts";
import { ringingState } from "../domain/call-machine.fixtures.ts";
import type { CallState } from "../domain/call-types.ts";
import { isDomainError } from "../domain/errors.ts";
import { emptyRollup } from "../domain/sample-rollup.ts";
import type { CallEntry } from "./call-effects.ts";
import { createCallParticipants } from "./call-participants.ts";
import { createCallTable } from "./call-table.ts";

const lingerMs = 10_000;

function setup() {
  const clock = createManualClock();
  const registry = new Registry();
  const metrics = createMetrics(registry, { version: "test" });
  const calls = createCallTable({ clock, metrics, lingerMs });
  const entry = (state: CallState): CallEntry => ({
    state,
    timers: new Map(),
    writes: Promise.resolve(),
    directoryWrites: Promise.resolve(),
    samples: [],
    rollup: emptyRollup,
    parts: createCallParticipants({ clock, graceMs: 1_000, maxQueued: 8, onLost() {}, onOverflow() {} }),
  });
  const active = async () => (await registry.getSingleMetric("calldrop_calls_active")?.get())?.values[0]?.value;
  return { clock, calls, entry, active };
}

describe("call table", () => {
  it("a lookup waits for the call being created; an unknown call is not_found", async () => {
    const { calls, entry } = setup();
    const state = ringingState({ callId: "c1" });
    let release = () => {};
    const created = calls.creating("c1", async () => {
      await new Promise<void>((r) => {
        release = r;
      });
      calls.add(entry(state));
    });
    assert.equal(calls.has("c1"), true, "on its way");
    assert.equal(calls.get("c1"), undefined);
    const found = calls.entryOf("c1");
    release();
    await created;
    assert.equal((await found).state, state);
    assert.equal(calls.pending("c1"), undefined);
    await assert.rejects(calls.entryOf("nope"), (err) => isDomainError(err) && err.code === "not_found");
  });

  it("counts live calls; an ended one lingers, a dropped one goes at once", async () => {
    const { clock, calls, entry, active } = setup();
    const one = entry(ringingState({ callId: "c1" }));
    const two = entry(ringingState({ callId: "c2" }));
    calls.add(one);
    calls.add(two);
    assert.equal(calls.activeCount(), 2);
    assert.equal(await active(), 2);
    assert.deepEqual(calls.running(), ["c1", "c2"]);

    one.state = {
      phase: "ended",
      call: one.state.call,
      end: { outcome: "cancelled", reason: "cancelled", endedAtMs: clock.now() },
    };
    calls.release(one);
    calls.drop(two);
    assert.equal(calls.activeCount(), 0);
    assert.equal(await active(), 0);
    assert.deepEqual(calls.running(), []);
    assert.equal(calls.get("c2"), undefined, "dropped at once");
    clock.advance(lingerMs - 1);
    assert.equal(calls.get("c1"), one, "the ended call lingers for late reports");
    clock.advance(1);
    assert.equal(calls.get("c1"), undefined);
  });

  it("a call that ends as it starts is held for the linger time, never counted live", () => {
    const { clock, calls, entry } = setup();
    const call = ringingState({ callId: "c3" }).call;
    calls.add(
      entry({ phase: "ended", call, end: { outcome: "unreachable", reason: "no_devices", endedAtMs: clock.now() } }),
    );
    assert.equal(calls.activeCount(), 0);
    assert.equal(calls.has("c3"), true);
    clock.advance(lingerMs);
    assert.equal(calls.has("c3"), false);
  });
});
