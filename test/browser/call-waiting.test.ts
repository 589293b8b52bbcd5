/**
 * Call waiting in two real Chromiums (docs/spec.md §14 "Call waiting"): bob is in a call with
 * alice; carol (a second tab in alice's browser) calls bob. Bob's call screen shows a small banner
 * over the call — announced, focused, with 44 px "End & accept" and "Decline" — while carol hears
 * ringing; End & accept ends alice's call (completed) and answers carol's, whose media then flows.
 * Both histories are right. Screenshots go to test-artifacts/call-waiting/ (gitignored).
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { call, signIn, waitForCall, waitForHistory, waitForText } from "../support/app-driver.ts";
import { launchPeer, type Peer } from "../support/browser.ts";
import type { TestServer } from "../support/server.ts";
import { signedInPair } from "../support/signed-in-pair.ts";

const ARTIFACTS = join(import.meta.dirname, "../../test-artifacts/call-waiting");

type Hooks = { calldrop: { view(): { waiting?: { peer: string; callId: string } } | undefined; tone(): string } };
const waitingOf = (page: Page) => page.evaluate(() => (window as unknown as Hooks).calldrop.view()?.waiting);
const tone = (page: Page) => page.evaluate(() => (window as unknown as Hooks).calldrop.tone());

/** Visible, at least 44 px square, and named for assistive technology. */
async function assertTarget(page: Page, testId: string, name: RegExp): Promise<void> {
  const el = page.getByTestId(testId);
  const box = await el.boundingBox();
  assert.ok(box && box.width >= 44 && box.height >= 44, `${testId} is ${box?.width}×${box?.height}`);
  assert.ok(await page.getByRole("button", { name }).and(el).isVisible(), `${testId} is labelled ${name}`);
}

const connected = (c: { phase: string; remoteFrames: number }) => c.phase === "connected" && c.remoteFrames > 0;

describe("call waiting in the web client (docs/spec.md §14)", () => {
  let server: TestServer;
  let alice: Peer;
  let bob: Peer;
  let carol: Page;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ({ server, alice, bob } = await signedInPair(launchPeer));
    carol = await alice.context.newPage();
    await signIn(carol, server.url, "carol");
  });

  after(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await server?.stop();
  });

  it("bob in a call with alice sees carol waiting, presses End & accept, and the histories are right", async () => {
    await call(alice.page, "bob");
    await bob.page.getByTestId("accept").click();
    const first = await waitForCall(bob.page, "bob in call with alice", connected);
    await waitForCall(alice.page, "alice in call with bob", connected);

    await call(carol, "bob");
    await bob.page.getByTestId("waiting").waitFor({ state: "visible" });
    await waitForCall(carol, "carol hears it ring", (c) => c.phase === "outgoing" && /Ringing bob/.test(c.status));
    assert.equal(await tone(carol), "ringback");
    // Quietly: the call-waiting tone, not the ringtone; the call with alice goes on.
    assert.equal(await tone(bob.page), "waiting");
    assert.equal((await waitForCall(bob.page, "still with alice", connected)).callId, first.callId);
    assert.match((await bob.page.getByTestId("waiting-title").textContent()) ?? "", /^carol is calling/);
    assert.match(
      (await bob.page.getByTestId("announce").textContent()) ?? "",
      /carol is calling while you are in a call/,
    );
    assert.equal(await bob.page.evaluate(() => document.activeElement?.id), "waiting", "focus moved to the banner");
    assert.equal(await bob.page.getByRole("alertdialog", { name: /carol is calling/ }).isVisible(), true);
    await assertTarget(bob.page, "waiting-accept", /^End & accept$/);
    await assertTarget(bob.page, "waiting-decline", /^Decline$/);
    await bob.page.screenshot({ path: join(ARTIFACTS, "call-waiting.png") });
    // On a phone the banner fits, and its buttons stay thumb targets.
    const desktop = bob.page.viewportSize();
    await bob.page.setViewportSize({ width: 390, height: 844 });
    const width = await bob.page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `the page is ${width} px wide on a 390 px screen`);
    await assertTarget(bob.page, "waiting-accept", /^End & accept$/);
    await assertTarget(bob.page, "waiting-decline", /^Decline$/);
    await bob.page.screenshot({ path: join(ARTIFACTS, "phone-call-waiting.png") });
    if (desktop) await bob.page.setViewportSize(desktop);
    const second = (await waitingOf(bob.page))?.callId ?? "";
    assert.ok(second && second !== first.callId);

    await bob.page.getByTestId("waiting-accept").click();
    await waitForText(alice.page, /^Call with bob ended/);
    await waitForCall(alice.page, "alice idle", (c) => c.phase === "idle");
    const answered = await waitForCall(bob.page, "bob in call with carol", (c) => connected(c) && c.callId === second);
    assert.equal(answered.role, "callee");
    await waitForCall(carol, "carol sees bob", connected);
    assert.equal(await bob.page.getByTestId("waiting").isVisible(), false, "the banner is gone");
    assert.equal(await tone(bob.page), undefined);

    await carol.getByTestId("hangup").click();
    await waitForCall(bob.page, "bob idle", (c) => c.phase === "idle");
    // History: the first call completed (bob ended it), the second answered and completed.
    assert.equal((await waitForHistory(alice.page, first.callId, (r) => r.outcome !== "")).outcome, "completed");
    assert.equal((await waitForHistory(carol, second, (r) => r.outcome !== "")).outcome, "completed");
    for (const callId of [first.callId, second]) {
      assert.equal((await waitForHistory(bob.page, callId, (r) => r.outcome !== "")).outcome, "completed");
    }
  });

  it("Decline leaves the call with alice running, and carol is told bob declined", async () => {
    await call(alice.page, "bob");
    await bob.page.getByTestId("accept").click();
    const first = await waitForCall(bob.page, "bob in call with alice", connected);
    await call(carol, "bob");
    await bob.page.getByTestId("waiting").waitFor({ state: "visible" });
    const second = (await waitingOf(bob.page))?.callId ?? "";
    await bob.page.getByTestId("waiting-decline").click();
    await waitForText(carol, /^bob declined the call\.$/);
    await bob.page.getByTestId("waiting").waitFor({ state: "hidden" });
    assert.equal((await waitForCall(bob.page, "still with alice", connected)).callId, first.callId);
    assert.equal((await waitForHistory(carol, second, (r) => r.outcome !== "")).outcome, "declined");
    await alice.page.getByTestId("hangup").click();
    await waitForCall(bob.page, "bob idle", (c) => c.phase === "idle");
  });
});
