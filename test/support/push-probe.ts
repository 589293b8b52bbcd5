/**
 * The web client's service worker seen from a test: its registration id through
 * the Chrome DevTools Protocol (ServiceWorker.enable events), pushes delivered to
 * it the way the browser's push service would (ServiceWorker.deliverPushMessage;
 * headless Chromium has no push service of its own), the notifications it shows
 * (read from a page of the origin), and DeviceService as the signed-in user.
 */
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import type { BrowserContext, Page } from "playwright-core";
import { DeviceService, MobilePlatform } from "../../gen/calldrop/v1/device_pb.js";

/** A notification as `ServiceWorkerRegistration.getNotifications()` returns it. */
export interface ShownNotification {
  readonly tag: string;
  readonly title: string;
  readonly body: string;
  readonly silent: boolean | null;
  readonly renotify: boolean;
  readonly requireInteraction: boolean;
  readonly actions: readonly string[];
  readonly data: Record<string, unknown> | null;
}

/** CDP access to the page's service worker registrations. */
export interface ServiceWorkerProbe {
  /** Waits until the registration of `scope` has an activated worker; returns its registration id. */
  activated(scope: string, timeoutMs?: number): Promise<string>;
  /** Delivers `payload` as JSON to the registration of `scope` (origin = the scope's origin). */
  push(scope: string, payload: object): Promise<void>;
  close(): Promise<void>;
}

/** Starts watching service workers through a CDP session on `page`. */
export async function probeServiceWorkers(context: BrowserContext, page: Page): Promise<ServiceWorkerProbe> {
  const cdp = await context.newCDPSession(page);
  const scopes = new Map<string, string>();
  const activated = new Set<string>();
  cdp.on("ServiceWorker.workerRegistrationUpdated", (e) => {
    for (const r of e.registrations) {
      if (r.isDeleted) scopes.delete(r.scopeURL);
      else scopes.set(r.scopeURL, r.registrationId);
    }
  });
  cdp.on("ServiceWorker.workerVersionUpdated", (e) => {
    for (const v of e.versions) if (v.status === "activated") activated.add(v.registrationId);
  });
  await cdp.send("ServiceWorker.enable");
  const probe: ServiceWorkerProbe = {
    async activated(scope, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const id = scopes.get(scope);
        if (id !== undefined && activated.has(id)) return id;
        if (Date.now() > deadline) throw new Error(`no activated service worker for ${scope}: ${[...scopes.keys()]}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async push(scope, payload) {
      const registrationId = await probe.activated(scope);
      await cdp.send("ServiceWorker.deliverPushMessage", {
        origin: new URL(scope).origin,
        registrationId,
        data: JSON.stringify(payload),
      });
    },
    close: () => cdp.detach().catch(() => {}),
  };
  return probe;
}

/** The notifications the origin's service worker shows now (`page` must be on that origin). */
export function shownNotifications(page: Page): Promise<ShownNotification[]> {
  return page.evaluate(async () => {
    const reg = await navigator.serviceWorker.getRegistration("/");
    const list = (await reg?.getNotifications()) ?? [];
    return list.map((n) => {
      const x = n as Notification & { renotify?: boolean; actions?: { action: string }[] };
      return {
        tag: x.tag,
        title: x.title,
        body: x.body,
        silent: x.silent,
        renotify: x.renotify ?? false,
        requireInteraction: x.requireInteraction,
        actions: (x.actions ?? []).map((a) => a.action),
        data: x.data as Record<string, unknown> | null,
      };
    });
  });
}

/** Polls the notifications until one with `tag` satisfies `predicate`; returns it. */
export async function waitForNotification(
  page: Page,
  tag: string,
  predicate: (n: ShownNotification) => boolean,
  timeoutMs = 10_000,
): Promise<ShownNotification> {
  const deadline = Date.now() + timeoutMs;
  let last: ShownNotification[] = [];
  while (Date.now() < deadline) {
    last = await shownNotifications(page);
    const hit = last.find((n) => n.tag === tag && predicate(n));
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no matching notification ${tag}; shown: ${JSON.stringify(last)}`);
}

/** DeviceService as `token`'s user (Connect over Node's fetch). */
export function deviceClient(baseUrl: string, token: string) {
  const client = createClient(DeviceService, createConnectTransport({ baseUrl }));
  const headers = { authorization: `Bearer ${token}` };
  return {
    async list(): Promise<{ deviceId: string; endpoint: string }[]> {
      const res = await client.listDevices({}, { headers });
      return res.devices.map((d) => ({
        deviceId: d.deviceId,
        endpoint: d.target.case === "webPush" ? d.target.value.endpoint : "",
      }));
    },
    /** Registers an Android phone's FCM token under `deviceId` (pushed through the mobile push gateway). */
    async registerPhone(deviceId: string, token: string): Promise<void> {
      await client.registerDevice(
        { device: { deviceId, target: { case: "mobile", value: { platform: MobilePlatform.FCM, token } } } },
        { headers },
      );
    },
  };
}
