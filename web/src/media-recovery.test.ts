import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it, mock } from "node:test";
import { createMediaRecovery } from "./media-recovery.ts";

describe("media recovery", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "Date"], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());

  function track(restarts: boolean) {
    const log: string[] = [];
    const r = createMediaRecovery({
      restarts,
      down: () => log.push("down"),
      restartIce: () => log.push("restart"),
      giveUp: () => log.push("give up"),
    });
    return { r, log };
  }

  it("the caller restarts ICE after 2 s down, again every 5 s, and stops once the media is back", () => {
    const { r, log } = track(true);
    r.lost("disconnected");
    r.lost("failed"); // still the same outage: no second report, no second timer
    assert.deepEqual(log, ["down"]);
    mock.timers.tick(2_000);
    assert.deepEqual(log, ["down", "restart"]);
    mock.timers.tick(5_000);
    assert.equal(r.restartCount(), 2);
    assert.equal(r.back(), true);
    mock.timers.tick(60_000);
    assert.deepEqual(log, ["down", "restart", "restart"]);
    assert.equal(r.back(), false, "not lost any more");
  });

  it("a failed connection restarts at once; 20 s without media gives up", () => {
    const { r, log } = track(true);
    r.lost("failed");
    mock.timers.tick(0);
    assert.deepEqual(log, ["down", "restart"]);
    for (let i = 0; i < 4; i++) mock.timers.tick(5_000);
    assert.deepEqual(log, ["down", "restart", "restart", "restart", "restart", "give up"]);
    assert.equal(r.restartCount(), 4);
  });

  it("the callee never restarts (it answers the caller's restart) but gives up too; stop ends it all", () => {
    const { r, log } = track(false);
    r.lost("disconnected");
    for (let i = 0; i < 5; i++) mock.timers.tick(5_000);
    assert.deepEqual(log, ["down", "give up"]);
    const other = track(false);
    other.r.lost("disconnected");
    other.r.stop();
    mock.timers.tick(60_000);
    assert.deepEqual(other.log, ["down"]);
  });

  it("the other side closed its connection (a page reload): no ICE restart, it waits for that side, then gives up", () => {
    const { r, log } = track(true);
    r.lost("closed");
    r.lost("disconnected"); // the ICE consent check notices later: still no restart
    for (let i = 0; i < 4; i++) mock.timers.tick(5_000);
    assert.deepEqual(log, ["down", "give up"]);
    assert.equal(r.restartCount(), 0);
    const back = track(true);
    back.r.lost("closed");
    assert.equal(back.r.back(), true); // the other side's fresh connection is up
    back.r.lost("disconnected");
    mock.timers.tick(2_000);
    assert.deepEqual(back.log, ["down", "down", "restart"], "a later outage restarts as usual");
  });
});
