/**
 * A network change mid-call in real Chromium: runs ice-restart-scenario.ts in a private
 * network namespace where the caller's selected UDP port goes dead for good. The caller
 * must notice, restart ICE (new credentials and candidates, answered by the callee), get
 * the media back both ways on a new port, and the call must end normally (completed,
 * not failed).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { chromiumPath } from "../support/browser.ts";
import { runScenarioScript } from "../support/scenario-process.ts";
import type { IceRestartResult } from "./ice-restart-scenario.ts";

describe("ICE restart in real Chromium", () => {
  it("a call whose media path dies comes back on new candidates and ends normally", async () => {
    chromiumPath(); // fails clearly outside `npm test`
    const r = await runScenarioScript<IceRestartResult>("test/browser/ice-restart-scenario.ts", {
      privateNetwork: true,
    });
    const why = JSON.stringify(r);
    assert.equal(r.error, undefined, why);
    assert.ok(r.blockedPort > 0, why);
    assert.ok((r.iceRestarts ?? 0) >= 1, `the caller restarted ICE: ${why}`);
    assert.notEqual(r.newPort, r.blockedPort, `the media moved to a new port: ${why}`);
    assert.equal(r.outcome, "completed", `the call ended normally, not as failed: ${why}`);
  });
});
