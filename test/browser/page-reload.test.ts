/**
 * A page reload mid-call (docs/spec.md §14 "a page reload … rejoins the call in progress;
 * the peer sees Reconnecting…"), under two real Chromiums: the reloaded page rejoins with
 * a fresh peer connection, whether its session resumes or the resume is refused (a fresh
 * session re-learns the call); the other page shows "Reconnecting…" as soon as the
 * reloading page's connection closes; media flows both ways again and the call hangs up
 * with a `completed` record on both sides.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { call, type PageCall, waitForCall, waitForHistory, waitForText } from "../support/app-driver.ts";
import { launchPeer, type Peer } from "../support/browser.ts";
import type { TestServer } from "../support/server.ts";
import { signedInPair } from "../support/signed-in-pair.ts";

type StatusLog = { readonly text: string; readonly atMs: number }[];

/** Records every text the page's call status line shows, with its wall-clock time. */
async function recordStatus(page: Page): Promise<void> {
  await page.evaluate(() => {
    const el = document.querySelector("[data-testid=call-status]") as HTMLElement;
    const log: StatusLog = [];
    Object.assign(window, { statusLog: log });
    new MutationObserver(() => log.push({ text: el.textContent ?? "", atMs: Date.now() })).observe(el, {
      childList: true,
      characterData: true,
      subtree: true,
    });
  });
}

const statusLog = (page: Page) => page.evaluate(() => (window as unknown as { statusLog: StatusLog }).statusLog);

/** Waits until the page's remote video has rendered `frames` more frames than now. */
async function framesFlow(page: Page, what: string, frames = 10): Promise<PageCall> {
  let from = (await waitForCall(page, `${what}: connected`, (c) => c.phase === "connected")).remoteFrames;
  return waitForCall(page, what, (c) => {
    // A fresh peer connection (the other page reloaded) counts its frames from 0 again.
    from = Math.min(from, c.remoteFrames);
    return c.status === "Connected" && c.remoteFrames > from + frames;
  });
}

/** Makes the page's saved resume token one the server does not hold (as after its node died). */
async function refuseResume(page: Page): Promise<void> {
  await page.evaluate(() => {
    const saved = JSON.parse(sessionStorage.getItem("calldrop.resume") ?? "{}") as { resumeToken: string };
    const home = saved.resumeToken.split(".")[0];
    sessionStorage.setItem("calldrop.resume", JSON.stringify({ ...saved, resumeToken: `${home}.unknown` }));
  });
}

describe("web client: a page reload mid-call", () => {
  let server: TestServer;
  let alice: Peer;
  let bob: Peer;

  before(async () => {
    ({ server, alice, bob } = await signedInPair((name) => launchPeer(name)));
  });

  after(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await server?.stop();
  });

  /** Alice calls Bob and Bob answers; resolves with the call id once video flows both ways. */
  async function connected(): Promise<string> {
    await call(alice.page, "bob");
    await bob.page.getByTestId("accept").click();
    const { callId } = await framesFlow(alice.page, "alice sees bob's video");
    await framesFlow(bob.page, "bob sees alice's video");
    return callId;
  }

  /** One page reloads mid-call (after `beforeReload`); checks the rejoin and the hang-up. */
  async function reloadMidCall(reloads: "alice" | "bob", beforeReload: (page: Page) => Promise<void>): Promise<void> {
    const [reloader, other] = reloads === "bob" ? [bob, alice] : [alice, bob];
    const callId = await connected();
    await recordStatus(other.page);
    await beforeReload(reloader.page);

    const reloadAtMs = Date.now();
    await reloader.page.reload();
    // The reloaded page is back in the same call, not on its home screen.
    const rejoined = await waitForCall(reloader.page, "the page rejoins", (c) => c.phase !== "idle", 5_000);
    assert.equal(rejoined.callId, callId);
    assert.equal(rejoined.role, reloads === "alice" ? "caller" : "callee");
    const [aliceBack, bobBack] = await Promise.all([
      framesFlow(alice.page, "alice sees bob's video again"),
      framesFlow(bob.page, "bob sees alice's video again"),
    ]);
    const mediaBackMs = Date.now() - reloadAtMs;
    assert.equal(aliceBack.callId, callId);
    assert.equal(bobBack.callId, callId);

    // The other page was told at once: "Reconnecting…" before its media came back, then the call again.
    const log = await statusLog(other.page);
    const reconnecting = log.findIndex((s) => s.text === "Reconnecting…");
    assert.ok(reconnecting >= 0, `${other.name} never showed Reconnecting…: ${JSON.stringify(log)}`);
    assert.ok(
      log.slice(reconnecting).some((s) => s.text === `In call with ${reloads}`),
      `${other.name} is back in the call: ${JSON.stringify(log)}`,
    );
    const shownAfterMs = (log[reconnecting]?.atMs ?? 0) - reloadAtMs;
    const connectedAfterMs = ((reloads === "bob" ? bobBack : aliceBack).connectedAtMs ?? 0) - reloadAtMs;
    console.log(
      `${reloads} reloads → the other shows Reconnecting… after ${shownAfterMs} ms; the reloaded page's media ` +
        `connected after ${connectedAfterMs} ms; 10 new frames each way after ${mediaBackMs} ms`,
    );
    const notices = await reloader.page.evaluate(() =>
      (window as unknown as { calldrop: { notices(): { text: string }[] } }).calldrop.notices(),
    );
    assert.deepEqual(notices, [], "the reloaded page shows no error");

    await alice.page.getByTestId("hangup").click();
    await waitForText(alice.page, /Call with bob ended/);
    await waitForText(bob.page, /Call with alice ended/);
    for (const peer of [alice, bob]) {
      const row = await waitForHistory(peer.page, callId, (r) => r.outcome === "completed");
      assert.equal(row.path, "p2p");
    }
  }

  it("the session resumes: the callee's page rejoins, the caller shows Reconnecting…, media both ways", async () => {
    await reloadMidCall("bob", async () => {});
  });

  it("the caller's page reloads: it rejoins the same way", async () => {
    await reloadMidCall("alice", async () => {});
  });

  it("the resume is refused: a fresh session re-learns the call and the page rejoins it", async () => {
    await reloadMidCall("bob", refuseResume);
  });

  it("a page that lost the call (nothing saved) ends it at once when the server re-teaches it; a new call works", async () => {
    const callId = await connected();
    await refuseResume(bob.page);
    await bob.page.evaluate(() => sessionStorage.removeItem("calldrop.call"));
    await bob.page.reload();
    await waitForText(alice.page, /Call with bob ended/);
    await waitForCall(bob.page, "bob's page idle and online", (c) => c.phase === "idle");
    await waitForHistory(alice.page, callId, (r) => r.outcome === "completed");
    await connected();
    await alice.page.getByTestId("hangup").click();
    await waitForText(bob.page, /Call with alice ended/);
  });
});
