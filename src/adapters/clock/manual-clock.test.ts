import assert from "node:assert/strict";
import { test } from "node:test";
import { createManualClock } from "./manual-clock.ts";

test("timers fire in deadline order, across the scopes of one clock", () => {
  const clock = createManualClock(0);
  const a = clock.scope();
  const b = clock.scope();
  const fired: string[] = [];
  b.setTimer(20, () => fired.push(`b@${clock.now()}`));
  a.setTimer(10, () => fired.push(`a@${a.now()}`));
  clock.setTimer(15, () => fired.push(`root@${b.now()}`));
  clock.advance(30);
  assert.deepEqual(fired, ["a@10", "root@15", "b@20"]);
  assert.equal(a.now(), 30);
});

test("a halted scope's timers never fire, pending or new; the other scopes' do", () => {
  const clock = createManualClock(0);
  const dead = clock.scope();
  const alive = clock.scope();
  const fired: string[] = [];
  dead.setTimer(10, () => fired.push("dead"));
  alive.setTimer(10, () => fired.push("alive"));
  dead.halt();
  dead.setTimer(5, () => fired.push("dead after halt"));
  assert.equal(clock.pending(), 1);
  clock.advance(20);
  assert.deepEqual(fired, ["alive"]);
});
