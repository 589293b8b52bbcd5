/**
 * Real calls between two headless Debian Chromiums through the real server, P2P on
 * loopback: ring → accept → video both ways → hang up → both histories; a missed
 * call with a shortened ring timeout; and the messages a person sees when a call
 * cannot happen (declined, unreachable, busy, camera denied).
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import {
  bannerText,
  call,
  historyRows,
  resetCall,
  signIn,
  waitForCall,
  waitForHistory,
  waitForText,
} from "../support/app-driver.ts";
import { CHROMIUM_ARGS, launchPeer, type Peer } from "../support/browser.ts";
import type { TestServer } from "../support/server.ts";
import { signedInPair } from "../support/signed-in-pair.ts";

const ARTIFACTS = join(import.meta.dirname, "../../test-artifacts");
const RING_TIMEOUT_MS = 4_000;

describe("web client: P2P calls in real Chromium", () => {
  let server: TestServer;
  let alice: Peer;
  let bob: Peer;

  before(async () => {
    ({ server, alice, bob } = await signedInPair((name) => launchPeer(name), {
      CALLDROP_CALLS__RING_TIMEOUT_MS: String(RING_TIMEOUT_MS),
    }));
  });

  // A failed test must not leave a call up for the next one.
  afterEach(async () => {
    for (const p of [alice, bob]) if (p) await resetCall(p.page).catch(() => {});
  });

  after(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await server?.stop();
  });

  it("rings, connects P2P with video both ways, hangs up, and both histories show it", async () => {
    await call(alice.page, "bob");
    await bob.page.getByTestId("incoming").waitFor({ state: "visible" });
    assert.match((await bob.page.getByTestId("incoming").textContent()) ?? "", /alice is calling/);
    await waitForCall(alice.page, "caller ringing", (c) => c.phase === "outgoing" && /Ringing bob/.test(c.status));
    await bob.page.getByTestId("accept").click();

    const connected = (c: { phase: string; remoteFrames: number }) => c.phase === "connected" && c.remoteFrames > 0;
    const a = await waitForCall(alice.page, "alice sees bob's video", connected);
    const b = await waitForCall(bob.page, "bob sees alice's video", connected);
    assert.equal(a.callId, b.callId);
    assert.equal(a.path, "p2p");
    assert.equal(b.path, "p2p");
    // Two quality readings (one every 2 s) so the history has samples from both sides.
    const sampled = (c: { sent?: { width: number } }) => (c.sent?.width ?? 0) > 0;
    await waitForCall(alice.page, "alice quality reading", sampled);
    await waitForCall(bob.page, "bob quality reading", sampled);
    await alice.page.waitForTimeout(2_500);
    assert.match((await alice.page.getByTestId("quality-badge").textContent()) ?? "", /P2P/);

    mkdirSync(ARTIFACTS, { recursive: true });
    await alice.page.screenshot({ path: join(ARTIFACTS, "p2p-caller-mid-call.png") });
    await bob.page.screenshot({ path: join(ARTIFACTS, "p2p-callee-mid-call.png") });

    // Mute and camera off act on the local tracks (the peer keeps the call, gets silence/black).
    await alice.page.getByTestId("mute").click();
    await alice.page.getByTestId("camera").click();
    const tracks = () =>
      alice.page.evaluate(() => {
        const s = document.querySelector<HTMLVideoElement>("[data-testid=local-video]")?.srcObject as MediaStream;
        return { audio: s.getAudioTracks()[0]?.enabled, video: s.getVideoTracks()[0]?.enabled };
      });
    assert.deepEqual(await tracks(), { audio: false, video: false });
    assert.equal(await alice.page.getByTestId("mute").textContent(), "Unmute");
    await alice.page.getByTestId("mute").click();
    await alice.page.getByTestId("camera").click();
    assert.deepEqual(await tracks(), { audio: true, video: true });

    await alice.page.getByTestId("hangup").click();
    await waitForText(alice.page, /Call with bob ended/);
    await waitForText(bob.page, /Call with alice ended/);

    for (const peer of [alice, bob]) {
      const row = await waitForHistory(peer.page, a.callId, (r) => r.outcome === "completed" && r.samples > 0);
      assert.equal(row.path, "p2p", `${peer.name}'s history path`);
      assert.ok(row.durationMs > 2_000, `${peer.name}'s duration ${row.durationMs}`);
      assert.match(row.text, /P2P/);
      assert.match(row.text, /loss \d+\.\d% · RTT \d+ ms · jitter \d+ ms · \d+ kbps/);
      // A loopback call has no loss and next to no delay: the score is good (docs/spec.md §15).
      assert.match(row.quality, /^good \(MOS 4\.\d\)$/, `${peer.name}'s quality`);
      assert.ok(row.text.includes(`${row.quality} · loss`), `${peer.name}'s row says ${row.quality}`);
    }
  });

  it("a missed call: the caller sees 'no answer', the callee sees and lists the missed call", async () => {
    await call(alice.page, "bob");
    await bob.page.getByTestId("incoming").waitFor({ state: "visible" });
    const { callId } = await waitForCall(alice.page, "call id", (c) => c.callId !== "");
    // Nobody answers: the server's ring timeout (shortened to 4 s) ends it.
    await waitForText(alice.page, /No answer: bob did not pick up/, RING_TIMEOUT_MS + 5_000);
    await waitForText(bob.page, /Missed call from alice/, 5_000);
    assert.equal(await bob.page.getByTestId("incoming").isVisible(), false, "stopped ringing");
    const row = await waitForHistory(bob.page, callId, (r) => r.outcome === "missed");
    assert.ok(row.missed, "highlighted as missed");
    assert.equal(row.durationMs, 0);
    mkdirSync(ARTIFACTS, { recursive: true });
    await bob.page.screenshot({ path: join(ARTIFACTS, "callee-history-with-missed-call.png") });
    const callerRow = await waitForHistory(alice.page, callId, (r) => r.outcome === "missed");
    assert.equal(callerRow.missed, false, "only the callee's missed calls are highlighted");
  });

  it("says why a call cannot happen: declined, unreachable, busy", async () => {
    await call(alice.page, "bob");
    await bob.page.getByTestId("decline").click();
    await waitForText(alice.page, /bob declined the call/);

    await call(alice.page, "nobody-online");
    await waitForText(alice.page, /nobody-online cannot be reached/);

    // carol (a second tab in bob's browser) calls bob while bob is in a call with alice; bob turned
    // call waiting off (docs/spec.md §14 "Call waiting"), so carol hears bob is busy.
    const waitingBox = bob.page.getByTestId("call-waiting");
    await waitingBox.uncheck();
    await bob.page.waitForFunction(() => {
      const box = document.querySelector<HTMLInputElement>("[data-testid=call-waiting]");
      return box && !box.disabled && !box.checked;
    });
    await call(alice.page, "bob");
    await bob.page.getByTestId("accept").click();
    await waitForCall(bob.page, "alice-bob connected", (c) => c.phase === "connected");
    const carolPage = await bob.context.newPage();
    try {
      await signIn(carolPage, server.url, "carol");
      await call(carolPage, "bob");
      await waitForText(carolPage, /bob is busy/);
      assert.equal((await waitForCall(bob.page, "still in call", (c) => c.phase === "connected")).phase, "connected");
    } finally {
      await carolPage.close();
    }
    await bob.page.getByTestId("hangup").click();
    await waitForText(alice.page, /Call with bob ended/);
    await waitingBox.check();
  });

  it("says so when the camera is denied", async () => {
    const args = CHROMIUM_ARGS.filter((a) => a !== "--use-fake-ui-for-media-stream");
    const dave = await launchPeer("dave", ["--deny-permission-prompts"], args);
    try {
      await signIn(dave.page, server.url, "dave");
      await call(dave.page, "bob");
      await waitForText(dave.page, /Camera or microphone access was denied/);
      assert.equal(await bob.page.getByTestId("incoming").isVisible(), false, "no call was started");
      assert.match(await bannerText(dave.page), /denied/);
    } finally {
      await dave.close();
    }
    assert.ok((await historyRows(alice.page)).length >= 4);
  });
});
