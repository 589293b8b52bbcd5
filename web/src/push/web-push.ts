/**
 * Web Push for the signed-in device (docs/spec.md §8): registers the service
 * worker (web/public/sw.js), subscribes with the server's VAPID key and registers
 * the subscription through DeviceService.RegisterDevice under the device id of
 * the signaling session, so the server pushes only while that session is gone.
 * Push is optional: every failure becomes a quiet note, calling goes on.
 */
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { DeviceService } from "../../../gen/calldrop/v1/device_pb.js";
import { fetchClientConfig } from "./client-config.ts";

/** Where push stands: off (server has no key), pending, on, or unavailable (see the note). */
export type PushStatus = "off" | "pending" | "on" | "unavailable";

/** What the push setup needs from the page. */
export interface WebPushDeps {
  readonly baseUrl: string;
  /** The bearer token of the sign-in (kept, so sign-out can still unregister). */
  readonly token: string;
  readonly userId: string;
  readonly deviceId: string;
  /** Shows a quiet note about push, or clears it with undefined. */
  note(text: string | undefined): void;
  /** Called once the device is registered. */
  registered(): void;
  /** How long subscribing may take before the note says the push service does not answer (10 s). */
  readonly slowMs?: number;
}

/** Push for one sign-in. */
export interface WebPush {
  /** Sets push up (again); never throws. */
  enable(): Promise<void>;
  /** Unregisters the device (the browser's subscription stays for the next sign-in); never throws. */
  disable(): Promise<void>;
  status(): PushStatus;
}

const FALLBACK = "Calls ring only while CallDrop is open.";

/** Decodes a base64url string. */
export function base64UrlBytes(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function sameBytes(a: ArrayBuffer | null, b: Uint8Array): boolean {
  if (!a || a.byteLength !== b.length) return false;
  const x = new Uint8Array(a);
  return x.every((v, i) => v === b[i]);
}

/** Creates the push setup for one sign-in. */
export function createWebPush(deps: WebPushDeps): WebPush {
  const transport = createConnectTransport({
    baseUrl: deps.baseUrl,
    useBinaryFormat: true,
    interceptors: [
      (next) => (req) => {
        req.header.set("Authorization", `Bearer ${deps.token}`);
        return next(req);
      },
    ],
  });
  const devices = createClient(DeviceService, transport);
  let status: PushStatus = "off";
  let closed = false;
  let running: Promise<void> | undefined;
  const onMessage = (e: MessageEvent) => {
    if ((e.data as { type?: unknown } | null)?.type === "calldrop.pushsubscriptionchange") void enable();
  };

  function unavailable(why: string): void {
    status = "unavailable";
    deps.note(`Call notifications are unavailable: ${why} ${FALLBACK}`);
  }

  async function subscribe(reg: ServiceWorkerRegistration, key: Uint8Array<ArrayBuffer>): Promise<PushSubscription> {
    const existing = await reg.pushManager.getSubscription();
    if (existing && sameBytes(existing.options.applicationServerKey, key)) return existing;
    await existing?.unsubscribe(); // made with another server key: unusable now
    // Without a reachable push service (e.g. headless Chromium) this never settles: say so, keep waiting.
    const slow = setTimeout(() => unavailable("the browser's push service does not answer."), deps.slowMs ?? 10_000);
    try {
      return await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
    } finally {
      clearTimeout(slow);
    }
  }

  async function setUp(): Promise<void> {
    const { webPushPublicKey } = await fetchClientConfig(deps.baseUrl);
    if (!webPushPublicKey || closed) return;
    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
      return unavailable("this browser does not support them.");
    }
    status = "pending";
    navigator.serviceWorker.addEventListener("message", onMessage);
    await navigator.serviceWorker.register("/sw.js", { scope: "/" });
    const reg = await navigator.serviceWorker.ready;
    const permission =
      Notification.permission === "default" ? await Notification.requestPermission() : Notification.permission;
    if (permission !== "granted") return unavailable("they are blocked for this site.");
    const json = (await subscribe(reg, base64UrlBytes(webPushPublicKey))).toJSON();
    if (closed) return;
    await devices.registerDevice({
      device: {
        deviceId: deps.deviceId,
        target: {
          case: "webPush",
          value: { endpoint: json.endpoint ?? "", p256dh: json.keys?.p256dh ?? "", auth: json.keys?.auth ?? "" },
        },
      },
    });
    // Signed out meanwhile: take back what sign-out may have removed before this landed.
    if (closed) return void (await devices.unregisterDevice({ deviceId: deps.deviceId }));
    status = "on";
    deps.note(undefined);
    deps.registered();
  }

  function enable(): Promise<void> {
    // One attempt at a time; a subscription change during one is picked up by it.
    running ??= setUp()
      .catch((err: unknown) => {
        if (!closed) unavailable(`${err instanceof Error ? err.message : String(err)}.`);
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  return {
    enable,
    async disable() {
      closed = true;
      navigator.serviceWorker?.removeEventListener("message", onMessage);
      if (status === "off") return;
      status = "off";
      deps.note(undefined);
      await devices.unregisterDevice({ deviceId: deps.deviceId }).catch(() => {});
    },
    status: () => status,
  };
}
