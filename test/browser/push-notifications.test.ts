/**
 * Web Push in the web client, in real headless Chromium against the real server
 * (started with test VAPID keys): the service worker registers at "/", and the
 * notifications it shows for pushed incoming-call, stop-ringing and missed-call
 * payloads (delivered over CDP, as the browser's push service would).
 *
 * Headless Chromium has no push service: `pushManager.subscribe` never settles
 * there. So the page must show a quiet note and keep calling working; and to
 * check the rest of the chain the last test replaces only `subscribe` (at the
 * browser boundary) by a subscription of the local push service: the page
 * registers it under its signaling device id, the server pushes a real
 * encrypted, VAPID-signed ring to it, the decrypted payload goes into the service
 * worker, and a click on the notification's "Decline" (run through the worker's own
 * notificationclick handler) opens the page that answers the call, or tells the open
 * page, which answers it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import webpush from "web-push";
import { type LocalPushService, startLocalPushService } from "../notify/local-push-service.ts";
import { signIn } from "../support/app-driver.ts";
import { launchPeer, type Peer } from "../support/browser.ts";
import { type Device, webDevice } from "../support/devices.ts";
import {
  type ClickResult,
  deviceClient,
  probeServiceWorkers,
  type ServiceWorkerProbe,
  shownNotifications,
  waitForNotification,
} from "../support/push-probe.ts";
import { startServer, type TestServer } from "../support/server.ts";
import { waitFor } from "../support/wait-for.ts";

const DECLINED = 3;

async function devToken(baseUrl: string, userId: string): Promise<string> {
  const res = await fetch(`${baseUrl}/dev/token?user=${userId}`);
  return ((await res.json()) as { token: string }).token;
}

const until = <T>(what: string, probe: () => Promise<T | undefined>) => waitFor(probe, { what });

describe("web client: Web Push service worker and notifications", () => {
  const vapid = webpush.generateVAPIDKeys();
  let pushService: LocalPushService;
  let server: TestServer;
  let bob: Peer;
  let sw: ServiceWorkerProbe;
  let scope: string;
  const devices: Device[] = [];

  before(async () => {
    pushService = await startLocalPushService(vapid.publicKey);
    server = await startServer({
      CALLDROP_NOTIFICATIONS__WEB_PUSH: JSON.stringify({ subject: "mailto:test@calldrop.invalid", ...vapid }),
      CALLDROP_NOTIFICATIONS__ALLOW_INSECURE_ENDPOINTS: "true",
    });
    scope = `${server.url}/`;
    bob = await launchPeer("bob-push");
    await bob.context.grantPermissions(["notifications"], { origin: server.url });
    sw = await probeServiceWorkers(bob.context, bob.page);
    await signIn(bob.page, server.url, "bob");
  });

  after(async () => {
    for (const d of devices) d.drop();
    await sw?.close();
    await bob?.close();
    await server?.stop();
    await pushService?.close();
  });

  it("serves the VAPID public key to the page without authentication", async () => {
    const res = await fetch(`${server.url}/client-config`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { webPushPublicKey: vapid.publicKey });
  });

  it("registers the service worker at / and shows, replaces and expires call notifications", async () => {
    await sw.activated(scope);
    const state = await bob.page.evaluate(async () => {
      const reg = await navigator.serviceWorker.getRegistration("/");
      return { scope: reg?.scope, active: reg?.active?.state, script: reg?.active?.scriptURL };
    });
    assert.deepEqual(state, { scope, active: "activated", script: `${server.url}/sw.js` });

    // The profile's first getNotifications() syncs Chromium's notification database with the displayed
    // ones (headless displays none yet) and may drop one shown while it runs: wait until a notification
    // the page shows itself is listed (the sync is over), then close it, before any push.
    assert.deepEqual(await shownNotifications(bob.page), []);
    await until("the notification database to list a notification the page showed", () =>
      bob.page.evaluate(async () => {
        const reg = await navigator.serviceWorker.getRegistration("/");
        if ((await reg?.getNotifications({ tag: "warm-up" }))?.length) return true;
        await reg?.showNotification("warm-up", { tag: "warm-up", silent: true });
        return undefined;
      }),
    );
    await bob.page.evaluate(async () => {
      const reg = await navigator.serviceWorker.getRegistration("/");
      for (const n of (await reg?.getNotifications({ tag: "warm-up" })) ?? []) n.close();
    });
    await until("the warm-up notification to close", async () =>
      (await shownNotifications(bob.page)).length === 0 ? true : undefined,
    );
    const now = Date.now();
    const ring = { v: 1, userId: "bob", callerUserId: "alice" };
    await sw.push(scope, {
      ...ring,
      kind: "incoming_call",
      tag: "call-c1",
      callId: "c1",
      video: true,
      ringDeadlineMs: now + 30_000,
    });
    const incoming = await waitForNotification(bob.page, "call-c1", () => true);
    assert.equal(incoming.title, "alice is calling");
    assert.equal(incoming.body, "Incoming video call");
    assert.equal(incoming.requireInteraction, true);
    assert.equal(incoming.renotify, true);
    assert.deepEqual(incoming.actions, ["accept", "decline"]);
    assert.deepEqual(incoming.data, { kind: "incoming_call", callId: "c1", callerUserId: "alice" });

    // Answered on another device: the ring is replaced (same tag) by a silent notification.
    await sw.push(scope, {
      v: 1,
      kind: "stop_ringing",
      tag: "call-c1",
      userId: "bob",
      callId: "c1",
      outcome: "completed",
    });
    const stopped = await waitForNotification(bob.page, "call-c1", (n) => n.body === "Answered on another device");
    assert.equal(stopped.title, "Call from alice");
    assert.equal(stopped.silent, true);
    assert.equal(stopped.requireInteraction, false);
    assert.equal((await shownNotifications(bob.page)).filter((n) => n.tag === "call-c1").length, 1);

    // A ring past its deadline shows nothing; the missed call after it (pushed later) shows.
    await sw.push(scope, {
      ...ring,
      kind: "incoming_call",
      tag: "call-c2",
      callId: "c2",
      video: false,
      ringDeadlineMs: now - 1,
    });
    await sw.push(scope, { ...ring, kind: "missed_call", tag: "call-c3", callId: "c3", startedAtMs: now - 30_000 });
    const missed = await waitForNotification(bob.page, "call-c3", () => true);
    assert.equal(missed.title, "Missed call from alice");
    assert.match(missed.body, /^Called at /);
    assert.deepEqual(
      (await shownNotifications(bob.page)).map((n) => n.tag).sort(),
      ["call-c1", "call-c3"],
      "the expired ring was not shown",
    );
  });

  it("without a push service, shows a quiet note and calls still ring in the page", async () => {
    const note = bob.page.getByTestId("push-note");
    await note.waitFor({ state: "visible", timeout: 15_000 });
    assert.match((await note.textContent()) ?? "", /push service does not answer.*ring only while CallDrop is open/);
    assert.equal(await bob.page.getByTestId("banner").isVisible(), false, "no error banner for push");
    assert.deepEqual(await deviceClient(server.url, await devToken(server.url, "bob")).list(), []);

    const alice = await webDevice({
      baseUrl: server.url,
      token: await devToken(server.url, "alice"),
      userId: "alice",
      deviceId: "alice-node",
    });
    devices.push(alice);
    await alice.command("startCall", { calleeUserId: "bob" });
    await bob.page.getByTestId("incoming").waitFor({ state: "visible" });
    await bob.page.getByTestId("decline").click();
    assert.equal((await alice.next("callEnded")).value.outcome, DECLINED);
    alice.drop();
  });

  it("registers the subscription under the signaling device id; a real push rings; the notification's action answers", async () => {
    // Stand-in for the browser's push service: only `subscribe` is replaced, by a local-push-service subscription.
    const sub = pushService.subscribe();
    await bob.context.addInitScript((s) => {
      const json = { endpoint: s.endpoint, expirationTime: null, keys: { p256dh: s.p256dh, auth: s.auth } };
      const fake = { endpoint: s.endpoint, options: {}, toJSON: () => json, unsubscribe: async () => true };
      PushManager.prototype.subscribe = async () => fake as unknown as PushSubscription;
      PushManager.prototype.getSubscription = async () => null;
    }, sub);
    await bob.page.reload(); // same tab: the page resumes bob's session and sets push up again
    await bob.page.waitForFunction(
      () => (window as unknown as { calldrop: { pushStatus(): string } }).calldrop.pushStatus() === "on",
    );
    assert.equal(await bob.page.getByTestId("push-note").isVisible(), false);
    const deviceId = await bob.page.evaluate(() =>
      (window as unknown as { calldrop: { deviceId(): string } }).calldrop.deviceId(),
    );
    const bobDevices = deviceClient(server.url, await devToken(server.url, "bob"));
    assert.deepEqual(await bobDevices.list(), [{ deviceId, endpoint: sub.endpoint }]);

    // The tab is closed (here: left for a page without the app): the device has no live session any more.
    await bob.page.goto(`${server.url}/client-config`);
    await until("bob's session detached", async () => {
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      return /calldrop_sessions_connected\{transport="connect"\} 0\b/.test(metrics) ? true : undefined;
    });
    const alice = await webDevice({
      baseUrl: server.url,
      token: await devToken(server.url, "alice"),
      userId: "alice",
      deviceId: "alice-node-2",
    });
    devices.push(alice);
    const { callId } = await alice.command("startCall", { calleeUserId: "bob" });
    const pushed = await until("the ring at the local push service", async () =>
      pushService.received.find((p) => p.subscriptionId === sub.id && p.payload.callId === callId),
    );
    assert.deepEqual(pushService.refused, []);
    assert.equal(pushed.payload.kind, "incoming_call");
    await sw.push(scope, pushed.payload);
    const ring = await waitForNotification(bob.page, `call-${callId}`, () => true);
    assert.equal(ring.title, "alice is calling");

    // "Decline" on the notification with no tab of the app open: the service worker's click handler
    // opens /?call=<id>&action=decline in a new tab (fresh sessionStorage), which signs in as the
    // notified device and declines.
    await bob.page.goto("about:blank");
    const declined: ClickResult = await sw.click(scope, `call-${callId}`, "decline");
    const url = `${server.url}/?call=${encodeURIComponent(callId)}&action=decline`;
    assert.deepEqual(declined, { opened: [url], focused: [], closed: true });
    const tab = await bob.context.newPage();
    await tab.goto(url);
    assert.equal((await alice.next("callEnded", (v) => v.callId === callId, 15_000)).value.outcome, DECLINED);
    assert.equal(
      await tab.evaluate(() => (window as unknown as { calldrop: { deviceId(): string } }).calldrop.deviceId()),
      deviceId,
    );
    assert.equal(new URL(tab.url()).search, "", "the pick is dropped from the URL");
    await tab.waitForFunction(
      () => (window as unknown as { calldrop: { pushStatus(): string } }).calldrop.pushStatus() === "on",
    );

    // With the tab open, a click on a ring's "Decline" (a push that raced the tab's session) focuses
    // the tab and tells it the pick, and the tab declines the call it is ringing for.
    const second = await alice.command("startCall", { calleeUserId: "bob" });
    await tab.getByTestId("incoming").waitFor({ state: "visible" });
    const ringAgain = { callId: second.callId, tag: `call-${second.callId}`, ringDeadlineMs: Date.now() + 30_000 };
    await sw.push(scope, { ...pushed.payload, ...ringAgain });
    await waitForNotification(tab, `call-${second.callId}`, () => true);
    const fromTab = await sw.click(scope, `call-${second.callId}`, "decline");
    assert.deepEqual(fromTab.opened, [], "no second tab");
    assert.deepEqual(
      fromTab.focused.map((u) => new URL(u).origin),
      [server.url],
      "the open tab is focused",
    );
    assert.equal(fromTab.closed, true);
    assert.equal((await alice.next("callEnded", (v) => v.callId === second.callId, 15_000)).value.outcome, DECLINED);

    // Sign-out unregisters the device.
    await tab.locator("#signout").click();
    await until("bob's device unregistered", async () => ((await bobDevices.list()).length === 0 ? true : undefined));
  });
});
