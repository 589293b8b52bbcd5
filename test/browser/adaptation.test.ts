/**
 * Adaptive quality under a real bandwidth constraint: runs adaptation-scenario.ts
 * inside a private network namespace (`unshare -n`) where an HTB class caps the
 * caller's outgoing media on loopback, then lifts the cap. The controller must
 * step down and the sender's encoded resolution/fps must drop; after the cap is
 * lifted it must step back up and the resolution must rise again.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { chromiumPath } from "../support/browser.ts";
import { runScenarioScript } from "../support/scenario-process.ts";
import type { ScenarioResult, TimelinePoint } from "./adaptation-scenario.ts";

const runScenario = () => {
  chromiumPath(); // fails clearly outside `npm test`
  return runScenarioScript<ScenarioResult & { error?: string }>("test/browser/adaptation-scenario.ts", {
    privateNetwork: true,
  });
};

describe("adaptive quality in real Chromium", () => {
  it("steps down under a real uplink cap and back up when it lifts", async () => {
    const r = await runScenario();
    const table = r.timeline.map(
      (p) => `${p.t}s ${p.phase} step ${p.step} ${p.width}x${p.height}@${p.fps} bwe ${p.bweKbps}k`,
    );
    const why = `timeline:\n${table.join("\n")}`;
    assert.equal(r.error, undefined, `${r.error}\n${why}`);
    const of = (phase: TimelinePoint["phase"]) => r.timeline.filter((p) => p.phase === phase && p.step >= 0);
    const baseline = of("baseline");
    const constrained = of("constrained");
    const lifted = of("lifted");
    const baselineHeight = Math.max(...baseline.map((p) => p.height));
    assert.ok(
      baseline.slice(-5).every((p) => p.step <= 1),
      `good link: top rungs\n${why}`,
    );

    const worst = Math.max(...constrained.map((p) => p.step));
    assert.ok(worst >= 3, `controller stepped down to 270p15 or below under ${r.capKbps} kbit/s\n${why}`);
    const lowHeight = Math.min(...constrained.map((p) => p.height).filter((h) => h > 0));
    assert.ok(lowHeight < baselineHeight, `encoded height dropped ${baselineHeight} → ${lowHeight}\n${why}`);
    assert.ok(
      constrained.some((p) => p.fps > 0 && p.fps <= 15),
      `encoded frame rate dropped to the rung's cap\n${why}`,
    );

    const end = lifted.at(-1);
    assert.ok(end && end.step < worst, `stepped back up after the cap lifted\n${why}`);
    assert.ok(end && end.height > lowHeight, `encoded height rose again\n${why}`);
  });
});
