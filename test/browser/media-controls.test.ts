/**
 * Mute and camera-off reach the other side (docs/spec.md §14 "Media controls"), under two real
 * Chromiums: muted while it rings, the caller is shown muted the moment the callee answers; camera
 * off shows the caller's initial with "Camera off" in place of black video; unmuting clears the
 * label; a reloaded page learns the other side's camera is still off; the camera coming back
 * shows the video again. A screenshot of the muted, camera-off peer goes to test-artifacts/media-controls/.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { call, waitForCall, waitForText } from "../support/app-driver.ts";
import { launchPeer, type Peer } from "../support/browser.ts";
import type { TestServer } from "../support/server.ts";
import { signedInPair } from "../support/signed-in-pair.ts";

const ARTIFACTS = join(import.meta.dirname, "../../test-artifacts/media-controls");

/** Whether the page's own microphone or camera track is live (a muted track sends silence). */
const trackEnabled = (page: Page, kind: "audio" | "video") =>
  page.evaluate((k) => {
    const local = document.querySelector<HTMLVideoElement>("[data-testid=local-video]");
    const stream = local?.srcObject as MediaStream | null;
    return stream?.getTracks().find((t) => t.kind === k)?.enabled;
  }, kind);

describe("web client: mute and camera off reach the other side", () => {
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

  it("shows the peer muted and its camera off, keeps it across a reload, and clears it when back on", async () => {
    await call(alice.page, "bob");
    // Muted while it rings (the camera is open by then).
    await alice.page.waitForFunction(
      () => document.querySelector<HTMLVideoElement>("[data-testid=local-video]")?.srcObject != null,
    );
    await alice.page.getByTestId("mute").click();
    assert.equal(await trackEnabled(alice.page, "audio"), false, "alice's microphone track is off");
    await bob.page.getByTestId("accept").click();
    await waitForCall(alice.page, "alice is connected", (c) => c.phase === "connected");

    const peerMuted = bob.page.getByTestId("peer-muted");
    await peerMuted.waitFor({ state: "visible" });
    assert.equal(await peerMuted.textContent(), "alice is muted");
    assert.equal(await bob.page.getByTestId("peer-camera-off").isVisible(), false, "alice's camera is on");
    assert.equal(await alice.page.getByTestId("peer-muted").isVisible(), false, "bob is not muted");

    await alice.page.getByTestId("camera").click();
    assert.equal(await trackEnabled(alice.page, "video"), false, "alice's camera track is off");
    await bob.page.getByTestId("peer-camera-off").waitFor({ state: "visible" });
    assert.equal(await bob.page.locator("#call-avatar").textContent(), "a", "alice's initial instead of black video");
    assert.equal(await bob.page.getByTestId("remote-video").getAttribute("aria-label"), "alice's camera is off");
    await bob.page.screenshot({ path: join(ARTIFACTS, "peer-muted-camera-off.png") });

    await alice.page.getByTestId("mute").click();
    await peerMuted.waitFor({ state: "hidden" });

    // Bob's page reloads: the fresh page knows nothing, and learns alice's camera is still off.
    await bob.page.reload();
    await waitForCall(bob.page, "bob's page rejoins", (c) => c.phase === "connected" && c.status === "Connected");
    await bob.page.getByTestId("peer-camera-off").waitFor({ state: "visible" });
    assert.equal(await bob.page.getByTestId("peer-muted").isVisible(), false);

    await alice.page.getByTestId("camera").click();
    await bob.page.getByTestId("peer-camera-off").waitFor({ state: "hidden" });
    assert.equal(await bob.page.getByTestId("remote-video").getAttribute("aria-label"), "The other person's video");

    await alice.page.getByTestId("hangup").click();
    await waitForText(alice.page, /Call with bob ended/);
    await waitForText(bob.page, /Call with alice ended/);
  });
});
