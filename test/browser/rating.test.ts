/**
 * Post-call rating in the web client (docs/spec.md §15 "Post-call rating"), under two real
 * Chromiums on a server asking every call (calls.ratingSampleRate 1): after an answered call
 * ends, both pages ask "How was the call?" with five 44 px score buttons; alice gives 4 with a
 * reason and her history says "You rated 4/5"; bob chooses Not now and his history shows no
 * rating. A screenshot of the prompt goes to test-artifacts/rating/.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { call, waitForCall, waitForHistory } from "../support/app-driver.ts";
import { launchPeer, type Peer } from "../support/browser.ts";
import type { TestServer } from "../support/server.ts";
import { signedInPair } from "../support/signed-in-pair.ts";

const ARTIFACTS = join(import.meta.dirname, "../../test-artifacts/rating");

describe("web client: post-call rating", () => {
  let server: TestServer;
  let alice: Peer;
  let bob: Peer;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ({ server, alice, bob } = await signedInPair((name) => launchPeer(name), {
      CALLDROP_CALLS__RATING_SAMPLE_RATE: "1",
    }));
  });

  after(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await server?.stop();
  });

  it("asks both sides after the call; a rating shows in the rater's history only", async () => {
    await call(alice.page, "bob");
    await bob.page.getByTestId("accept").click();
    const { callId } = await waitForCall(alice.page, "alice is connected", (c) => c.phase === "connected");
    await alice.page.getByTestId("hangup").click();

    const prompt = alice.page.getByTestId("rating");
    await prompt.waitFor({ state: "visible" });
    await bob.page.getByTestId("rating").waitFor({ state: "visible" });
    assert.equal(await prompt.getByRole("heading").textContent(), "How was the call?");
    assert.match((await alice.page.getByTestId("announce").textContent()) ?? "", /How was the call with bob\?/);
    const scores = prompt.getByRole("button", { name: /of 5/ });
    assert.equal(await scores.count(), 5);
    for (const box of await Promise.all((await scores.all()).map((b) => b.boundingBox()))) {
      assert.ok(box && box.width >= 44 && box.height >= 44, `touch target ${JSON.stringify(box)}`);
    }
    assert.equal(await alice.page.getByTestId("rating-send").isDisabled(), true, "nothing to send before a score");

    const four = prompt.getByRole("button", { name: "4 of 5: good" });
    await four.click();
    assert.equal(await four.getAttribute("aria-pressed"), "true");
    await prompt.getByLabel("Echo").check();
    await alice.page.screenshot({ path: join(ARTIFACTS, "rating-prompt.png") });
    await alice.page.getByTestId("rating-send").click();
    await prompt.waitFor({ state: "hidden" });
    await alice.page.getByTestId("announce").filter({ hasText: "you rated the call 4 out of 5" }).waitFor();

    const row = await waitForHistory(alice.page, callId, (r) => r.rating === "4");
    assert.match(row.text, /You rated 4\/5/);

    await bob.page.getByTestId("rating-skip").click();
    await bob.page.getByTestId("rating").waitFor({ state: "hidden" });
    const bobs = await waitForHistory(bob.page, callId, (r) => r.outcome === "completed");
    assert.equal(bobs.rating, "", "bob gave no rating, and alice's is not shown to him");
    assert.doesNotMatch(bobs.text, /You rated/);
    await alice.page.screenshot({ path: join(ARTIFACTS, "history-rated.png") });
  });
});
