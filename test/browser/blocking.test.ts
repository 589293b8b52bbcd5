/**
 * Blocking a caller in the web client (docs/spec.md §14 "Blocking"), under two real Chromiums:
 * Bob blocks Alice on his home screen; her call never rings his page and she is told what a call
 * to someone with no device online tells; blocking himself is refused in words; after Unblock
 * her call rings him again. A screenshot of the card goes to test-artifacts/blocking/.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { bannerText, call, waitForCall, waitForText } from "../support/app-driver.ts";
import { launchPeer, type Peer } from "../support/browser.ts";
import type { TestServer } from "../support/server.ts";
import { signedInPair } from "../support/signed-in-pair.ts";

const ARTIFACTS = join(import.meta.dirname, "../../test-artifacts/blocking");

describe("web client: blocking a caller", () => {
  let server: TestServer;
  let alice: Peer;
  let bob: Peer;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ({ server, alice, bob } = await signedInPair((name) => launchPeer(name)));
  });

  after(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await server?.stop();
  });

  it("a blocked caller's call never rings and looks unreachable; unblocked, it rings", async () => {
    const list = bob.page.getByTestId("blocked-list");
    await bob.page.getByTestId("block-user").fill("bob");
    await bob.page.getByTestId("block").click();
    await waitForText(bob.page, /You cannot block yourself/);

    await bob.page.getByTestId("block-user").fill("alice");
    await bob.page.getByTestId("block").click();
    await list.getByText("alice").waitFor();
    assert.equal(await bob.page.locator("#blocked-empty").isVisible(), false);
    await bob.page.getByTestId("blocked").screenshot({ path: join(ARTIFACTS, "blocked-callers.png") });

    // Records whether Bob's ringing screen ever shows.
    await bob.page.evaluate(() => {
      const incoming = document.querySelector("[data-testid=incoming]") as HTMLElement;
      const seen = { rang: !incoming.hidden };
      Object.assign(window, { rangSeen: seen });
      new MutationObserver(() => {
        if (!incoming.hidden) seen.rang = true;
      }).observe(incoming, { attributes: true });
    });
    await call(alice.page, "bob");
    await waitForText(alice.page, /bob cannot be reached right now/);
    await waitForCall(alice.page, "alice is back home", (c) => c.phase === "idle");
    // Bob's page kept its home screen all along (its ringing screen never showed).
    const rang = await bob.page.evaluate(() => (window as unknown as { rangSeen: { rang: boolean } }).rangSeen.rang);
    assert.equal(rang, false);
    assert.doesNotMatch(await bannerText(bob.page), /alice/);

    await list.getByRole("button", { name: "Unblock alice" }).click();
    await bob.page.locator("#blocked-empty").waitFor({ state: "visible" });
    await call(alice.page, "bob");
    await bob.page.getByTestId("incoming").waitFor({ state: "visible" });
    await bob.page.getByTestId("decline").click();
    await waitForText(alice.page, /bob declined/);
  });
});
