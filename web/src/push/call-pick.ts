/**
 * The call a person picked in a notification (the service worker, web/public/sw.js,
 * opens `/?call=<id>&action=accept|decline` or posts the same to an open page),
 * and the push device remembered for it, so a page opened by a notification
 * signs in as the device that was notified.
 */

/** A call picked in a notification; `action` empty = just open it. */
export interface CallPick {
  readonly callId: string;
  readonly action: "accept" | "decline" | "";
}

function actionOf(v: unknown): CallPick["action"] {
  return v === "accept" || v === "decline" ? v : "";
}

/** The pick carried by the page URL, if any. */
export function pickFromUrl(url: URL): CallPick | undefined {
  const callId = url.searchParams.get("call");
  return callId ? { callId, action: actionOf(url.searchParams.get("action")) } : undefined;
}

/** The URL without the pick (so a reload does not answer again). */
export function withoutPick(url: URL): string {
  const u = new URL(url);
  u.searchParams.delete("call");
  u.searchParams.delete("action");
  return u.href;
}

/** The pick in a service worker message, if it is one. */
export function pickFromMessage(data: unknown): CallPick | undefined {
  const m = data as { type?: unknown; callId?: unknown; action?: unknown } | null;
  if (m?.type !== "calldrop.notificationclick" || typeof m.callId !== "string" || !m.callId) return undefined;
  return { callId: m.callId, action: actionOf(m.action) };
}

/** The browser's push device: who registered this browser's subscription. */
export interface PushDevice {
  readonly userId: string;
  readonly deviceId: string;
}

const PUSH_DEVICE = "calldrop.pushDevice";

/** The remembered push device, if any. */
export function loadPushDevice(storage: Storage): PushDevice | undefined {
  try {
    const v = JSON.parse(storage.getItem(PUSH_DEVICE) ?? "null") as Partial<PushDevice> | null;
    return v?.userId && v.deviceId ? { userId: v.userId, deviceId: v.deviceId } : undefined;
  } catch {
    return undefined;
  }
}

/** Remembers (or with undefined, forgets) the push device. */
export function savePushDevice(storage: Storage, device: PushDevice | undefined): void {
  if (device) storage.setItem(PUSH_DEVICE, JSON.stringify(device));
  else storage.removeItem(PUSH_DEVICE);
}
