/**
 * The web client on a phone (docs/spec.md §14: "a web client that works on a phone, speaks in
 * words and is accessible"), in two real Chromiums at 390×844: nothing scrolls sideways; the
 * incoming call fills the screen, is announced and puts the focus on Accept (Enter answers);
 * the ringing caller hears the ringback; in the call the video fills the screen, the self-view
 * sits small in a corner, big labelled controls sit at the bottom and the timer runs; an ended
 * call's sentence goes away by itself; no network or no server is said in words.
 * Screenshots of each screen go to test-artifacts/web-ux/ (gitignored).
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { call, callState, signIn, waitForCall, waitForText } from "../support/app-driver.ts";
import { launchPeer, type Peer } from "../support/browser.ts";
import { startServer, type TestServer } from "../support/server.ts";
import { signedInPair } from "../support/signed-in-pair.ts";

const ARTIFACTS = join(import.meta.dirname, "../../test-artifacts/web-ux");
const PHONE = { width: 390, height: 844 };

/** Launches a peer with a phone-sized viewport. */
async function phone(name: string): Promise<Peer> {
  const peer = await launchPeer(name);
  await peer.page.setViewportSize(PHONE);
  return peer;
}

/** The page is no wider than the screen: nothing to scroll sideways. */
async function assertNoSideScroll(page: Page, where: string): Promise<void> {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
  }));
  assert.ok(scroll <= width, `${where}: the page is ${scroll} px wide on a ${width} px screen`);
}

/** Visible, inside the screen, at least `min` px square, and named for assistive technology. */
async function assertControl(page: Page, testId: string, name: RegExp, min = 60): Promise<{ y: number }> {
  const el = page.getByTestId(testId);
  assert.ok(await el.isVisible(), `${testId} is visible`);
  const box = await el.boundingBox();
  assert.ok(box, `${testId} has a box`);
  assert.ok(box.width >= min && box.height >= min, `${testId} is ${box.width}×${box.height}, not a thumb target`);
  assert.ok(box.x >= 0 && box.x + box.width <= PHONE.width, `${testId} fits across the screen`);
  assert.ok(box.y >= 0 && box.y + box.height <= PHONE.height, `${testId} fits down the screen`);
  // The accessible name is what a screen reader says for the button.
  assert.ok(await page.getByRole("button", { name }).and(el).isVisible(), `${testId} is labelled ${name}`);
  return { y: box.y };
}

const tone = (page: Page) =>
  page.evaluate(() => (window as unknown as { calldrop: { tone(): string | undefined } }).calldrop.tone());

const timerText = async (page: Page) => (await page.getByTestId("call-timer").textContent()) ?? "";

describe("web client on a phone (390×844)", () => {
  let server: TestServer;
  let alice: Peer;
  let bob: Peer;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ({ server, alice, bob } = await signedInPair(phone));
  });

  after(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await server?.stop();
  });

  it("the home screen fits the phone and its controls are labelled", async () => {
    await assertNoSideScroll(alice.page, "home");
    assert.ok(await alice.page.getByRole("textbox", { name: "User id to call" }).isVisible());
    await assertControl(alice.page, "dial", /^Call$/, 44);
    await alice.page.screenshot({ path: join(ARTIFACTS, "idle.png") });
  });

  it("a call: announced with focus on Accept, ringback, full-screen video, big controls, a running timer", async () => {
    await call(alice.page, "bob");
    await bob.page.getByTestId("incoming").waitFor({ state: "visible" });

    // The callee: who calls, said out loud, and the focus on Accept.
    assert.match((await bob.page.getByTestId("incoming").textContent()) ?? "", /alice is calling/);
    const announce = bob.page.getByTestId("announce");
    assert.equal(await announce.getAttribute("aria-live"), "assertive");
    assert.match((await announce.textContent()) ?? "", /alice is calling/);
    assert.equal(await bob.page.evaluate(() => document.activeElement?.id), "accept");
    assert.equal(await tone(bob.page), "ring");
    const accept = await assertControl(bob.page, "accept", /^Accept$/);
    const decline = await assertControl(bob.page, "decline", /^Decline$/);
    assert.ok(accept.y > PHONE.height / 2 && decline.y > PHONE.height / 2, "answer buttons within thumb reach");
    await assertNoSideScroll(bob.page, "incoming call");

    // The caller hears the ringback while it rings there.
    await waitForCall(alice.page, "alice hears it ring", (c) => c.phase === "outgoing" && /Ringing bob/.test(c.status));
    assert.equal(await tone(alice.page), "ringback");
    await bob.page.screenshot({ path: join(ARTIFACTS, "incoming.png") });
    await alice.page.screenshot({ path: join(ARTIFACTS, "ringing-out.png") });

    // Enter on the focused Accept answers: the call works by keyboard.
    await bob.page.keyboard.press("Enter");
    const connected = (c: { phase: string; status: string; remoteFrames: number }) =>
      c.phase === "connected" && c.status === "Connected" && c.remoteFrames > 0;
    await waitForCall(alice.page, "alice sees bob", connected);
    await waitForCall(bob.page, "bob sees alice", connected);
    assert.equal(await tone(alice.page), undefined, "the ringback stopped");
    assert.equal(await tone(bob.page), undefined, "the ringtone stopped");

    for (const peer of [alice, bob]) {
      const page = peer.page;
      assert.match((await page.getByTestId("announce").textContent()) ?? "", /Connected to/);
      await assertNoSideScroll(page, `${peer.name} in call`);
      for (const [id, name] of [
        ["mute", /^Mute$/],
        ["camera", /^Camera off$/],
        ["hangup", /^Hang up$/],
      ] as const) {
        const { y } = await assertControl(page, id, name);
        assert.ok(y > PHONE.height * 0.75, `${peer.name}'s ${id} sits at the bottom (y ${y})`);
      }
      const remote = await page.getByTestId("remote-video").boundingBox();
      assert.deepEqual(remote && [remote.width, remote.height], [PHONE.width, PHONE.height], "video fills the screen");
      const self = await page.getByTestId("local-video").boundingBox();
      assert.ok(self && self.width < PHONE.width * 0.35 && self.y < PHONE.height * 0.25, "self-view small, top corner");
      assert.ok(self.x + self.width > PHONE.width * 0.9, "self-view in the right corner");
    }

    // The timer runs: it shows m:ss and moves on.
    const first = await timerText(alice.page);
    assert.match(first, /^\d+:\d\d$/);
    await alice.page.waitForFunction(
      (t) => document.querySelector("[data-testid=call-timer]")?.textContent !== t,
      first,
      { timeout: 5_000 },
    );
    assert.match(await timerText(alice.page), /^\d+:\d\d$/);
    assert.ok(await alice.page.getByTestId("call-timer").isVisible());
    await alice.page.screenshot({ path: join(ARTIFACTS, "in-call-caller.png") });
    await bob.page.screenshot({ path: join(ARTIFACTS, "in-call-callee.png") });

    // Mute shows as such and says so.
    await alice.page.getByTestId("mute").click();
    await assertControl(alice.page, "mute", /^Unmute$/);
    await alice.page.getByTestId("mute").click();

    await alice.page.getByTestId("hangup").click();
    const ended = await waitForText(bob.page, /^Call with alice ended \(\d+:\d\d\)\.$/);
    assert.doesNotMatch(ended, /\[|error|code/i);
    await waitForText(alice.page, /^Call with bob ended/);
    await bob.page.screenshot({ path: join(ARTIFACTS, "ended.png") });
    assert.equal(await bob.page.getByTestId("call-timer").isVisible(), false);

    // The ended call's sentence goes away by itself (ENDED_SHOW_MS in web/src/call-state.ts).
    for (const peer of [alice, bob]) {
      await peer.page.getByTestId("banner").waitFor({ state: "hidden", timeout: 15_000 });
      await assertNoSideScroll(peer.page, `${peer.name} after the call`);
    }
  });

  it("Escape on the ringing screen declines, and the caller is told in words", async () => {
    await call(alice.page, "bob");
    await bob.page.getByTestId("incoming").waitFor({ state: "visible" });
    assert.equal(await bob.page.evaluate(() => document.activeElement?.id), "accept");
    await bob.page.keyboard.press("Escape");
    await waitForText(alice.page, /^bob declined the call\.$/);
    await bob.page.getByTestId("incoming").waitFor({ state: "hidden" });
    await waitForCall(bob.page, "bob idle", (c) => c.phase === "idle");
  });

  it("no network, or no server, is said in words", async () => {
    const carol = await phone("carol");
    try {
      await carol.page.goto(`${server.url}/?capture=360`);
      await carol.context.setOffline(true);
      await carol.page.getByTestId("signin-user").fill("carol");
      await carol.page.getByTestId("signin").click();
      await waitForText(carol.page, /^No connection — check your network\.$/);
      await assertNoSideScroll(carol.page, "offline sign-in");

      // Signed in, then the server goes away (its own, so the others keep theirs): the header says
      // so, and calling says why it cannot.
      await carol.context.setOffline(false);
      const doomed = await startServer();
      await signIn(carol.page, doomed.url, "carol");
      await doomed.stop();
      await carol.page.waitForFunction(
        () => document.querySelector<HTMLElement>("[data-testid=connection]")?.dataset.status === "offline",
        undefined,
        { timeout: 20_000 },
      );
      assert.equal(await carol.page.getByTestId("connection").textContent(), "No connection — reconnecting…");
      await call(carol.page, "bob");
      await waitForText(carol.page, /^No connection — check your network\.$/);
      assert.equal((await callState(carol.page)).phase, "idle", "no call rings nobody");
      await carol.page.screenshot({ path: join(ARTIFACTS, "offline.png") });
    } finally {
      await carol.close();
    }
  });
});
