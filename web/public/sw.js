/**
 * CallDrop service worker (scope "/"): shows the call notifications the server
 * pushes (payload formats: src/adapters/notify/README.md) and opens the page
 * when one is clicked. Plain JS, copied as is to the site root by Vite.
 *
 * One notification per call: every notification of a call has the tag
 * `call-<callId>`, so stop-ringing and missed-call replace the ring.
 */

const STOP_TEXT = {
  completed: "Answered on another device",
  declined: "Declined on another device",
};

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let payload;
  try {
    payload = event.data?.json();
  } catch {
    return;
  }
  if (payload?.v !== 1 || typeof payload.callId !== "string") return;
  event.waitUntil(show(payload));
});

/** Shows (or replaces) the notification of one call; an expired ring shows nothing. */
async function show(p) {
  const tag = p.tag || `call-${p.callId}`;
  const data = { kind: p.kind, callId: p.callId, callerUserId: p.callerUserId };
  if (p.kind === "incoming_call") {
    if (!(Date.now() < p.ringDeadlineMs)) return;
    return self.registration.showNotification(`${p.callerUserId} is calling`, {
      tag,
      body: p.video ? "Incoming video call" : "Incoming audio call",
      renotify: true,
      requireInteraction: true,
      actions: [
        { action: "accept", title: "Accept" },
        { action: "decline", title: "Decline" },
      ],
      data,
    });
  }
  if (p.kind === "stop_ringing") {
    // Chrome expects a visible notification per push (userVisibleOnly): replace the ring by a silent one.
    const old = await self.registration.getNotifications({ tag });
    const caller = old[0]?.data?.callerUserId;
    return self.registration.showNotification(caller ? `Call from ${caller}` : "Call", {
      tag,
      body: STOP_TEXT[p.outcome] ?? "Call ended",
      silent: true,
      data: { ...data, callerUserId: caller },
    });
  }
  if (p.kind === "missed_call") {
    return self.registration.showNotification(`Missed call from ${p.callerUserId}`, {
      tag,
      body: `Called at ${new Date(p.startedAtMs).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`,
      data,
    });
  }
}

self.addEventListener("notificationclick", (event) => {
  const { kind, callId } = event.notification.data ?? {};
  event.notification.close();
  const ringing = kind === "incoming_call";
  const action = ringing && (event.action === "accept" || event.action === "decline") ? event.action : "";
  event.waitUntil(openPage(ringing ? callId : undefined, action));
});

/** Focuses an open page (telling it the call and action) or opens `/?call=<id>&action=<a>`. */
async function openPage(callId, action) {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const open = windows.find((w) => w.focused) ?? windows[0];
  if (open) {
    if (callId) open.postMessage({ type: "calldrop.notificationclick", callId, action });
    return open.focus();
  }
  const url = new URL("/", self.location.origin);
  if (callId) url.searchParams.set("call", callId);
  if (action) url.searchParams.set("action", action);
  return self.clients.openWindow(url.href);
}

// The browser replaced the subscription: open pages subscribe again and re-register the device.
self.addEventListener("pushsubscriptionchange", (event) => {
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      for (const w of windows) w.postMessage({ type: "calldrop.pushsubscriptionchange" });
    }),
  );
});
