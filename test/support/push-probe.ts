/**
 * The web client's service worker seen from a test: its registration id through
 * the Chrome DevTools Protocol (ServiceWorker.enable events), pushes delivered to
 * it the way the browser's push service would (ServiceWorker.deliverPushMessage;
 * headless Chromium has no push service of its own), the notifications it shows
 * (read from a page of the origin), clicks on them (a NotificationEvent dispatched to
 * the worker's real notificationclick handler), and DeviceService as the signed-in user.
 */
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import type { BrowserContext, Page } from "playwright-core";
import { DeviceService, MobilePlatform } from "../../gen/calldrop/v1/device_pb.js";
import { waitFor } from "./wait-for.ts";

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

/** What the worker's notificationclick handler did with a click. */
export interface ClickResult {
  /** URLs it asked the browser to open in a new window (`clients.openWindow`). */
  readonly opened: readonly string[];
  /** URLs of the open windows it asked to focus. */
  readonly focused: readonly string[];
  /** Whether it closed the clicked notification. */
  readonly closed: boolean;
}

/** CDP access to the page's service worker registrations. */
export interface ServiceWorkerProbe {
  /** Waits until the registration of `scope` has an activated worker; returns its registration id. */
  activated(scope: string, timeoutMs?: number): Promise<string>;
  /** Delivers `payload` as JSON to the registration of `scope` (origin = the scope's origin). */
  push(scope: string, payload: object): Promise<void>;
  /**
   * Clicks the shown notification `tag` (on its button `action`, "" = its body) of the
   * registration of `scope`: the worker's notificationclick handler runs on a NotificationEvent
   * for it. No CDP command clicks a notification, and a click dispatched from script carries
   * no user activation, so Chromium would refuse `openWindow` and `focus`: only those two are
   * replaced, by recorders, for the click (the test then opens the URL as the browser would).
   */
  click(scope: string, tag: string, action: string): Promise<ClickResult>;
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
    activated(scope, timeoutMs = 10_000) {
      return waitFor(
        () => {
          const id = scopes.get(scope);
          return id !== undefined && activated.has(id) && id;
        },
        { what: `an activated service worker for ${scope}`, timeoutMs, state: () => [...scopes.keys()] },
      );
    },
    async push(scope, payload) {
      const registrationId = await probe.activated(scope);
      await cdp.send("ServiceWorker.deliverPushMessage", {
        origin: new URL(scope).origin,
        registrationId,
        data: JSON.stringify(payload),
      });
    },
    async click(scope, tag, action) {
      await probe.activated(scope);
      const script = new URL("sw.js", scope).href;
      const worker = await waitFor(() => context.serviceWorkers().findLast((w) => w.url() === script), {
        what: `the running service worker ${script}`,
      });
      return worker.evaluate(
        async ({ tag, action }) => {
          // The worker's globals (the DOM lib types only a window's).
          type Focus = (this: { url: string }) => Promise<unknown>;
          const sw = self as unknown as {
            registration: ServiceWorkerRegistration;
            clients: { openWindow(url: string): Promise<unknown> };
            dispatchEvent(e: Event): boolean;
            WindowClient: { prototype: { focus: Focus } };
            NotificationEvent: new (type: string, init: { notification: Notification; action: string }) => Event;
          };
          const [notification] = await sw.registration.getNotifications({ tag });
          if (!notification) throw new Error(`no notification ${tag} is shown`);
          const opened: string[] = [];
          const focused: string[] = [];
          const focus = sw.WindowClient.prototype.focus;
          sw.clients.openWindow = async (url: string) => {
            opened.push(new URL(url, location.href).href);
            return null;
          };
          sw.WindowClient.prototype.focus = async function () {
            focused.push(this.url);
            return this;
          };
          try {
            const event = new sw.NotificationEvent("notificationclick", { notification, action });
            let handled: Promise<unknown> = Promise.resolve();
            // waitUntil is the browser's to call on events it dispatches; here it hands the promise back.
            Object.defineProperty(event, "waitUntil", { value: (p: Promise<unknown>) => (handled = p) });
            sw.dispatchEvent(event);
            await handled;
          } finally {
            delete (sw.clients as { openWindow?: unknown }).openWindow;
            sw.WindowClient.prototype.focus = focus;
          }
          const closed = (await sw.registration.getNotifications({ tag })).length === 0;
          return { opened, focused, closed };
        },
        { tag, action },
      );
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
  let last: ShownNotification[] = [];
  return waitFor(
    async () => {
      last = await shownNotifications(page);
      return last.find((n) => n.tag === tag && predicate(n));
    },
    { what: `a matching notification ${tag}`, timeoutMs, state: () => last },
  );
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
    async unregister(deviceId: string): Promise<void> {
      await client.unregisterDevice({ deviceId }, { headers });
    },
  };
}
