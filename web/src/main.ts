/**
 * The page's composition root: sign-in, the device session, the call flow, the
 * history table and the DOM bindings. Exposes `window.calldrop` (read-only views)
 * for the end-to-end tests.
 */
import { createApi, fetchDevToken } from "./api.ts";
import { type CallFlow, type CallView, createCallFlow } from "./call-flow.ts";
import { createHistoryView, type HistoryView } from "./history-view.ts";
import { captureHeight, openMedia } from "./media.ts";
import { type Notice, serverErrorNotice } from "./messages.ts";
import {
  type CallPick,
  loadPushDevice,
  pickFromMessage,
  pickFromUrl,
  savePushDevice,
  withoutPick,
} from "./push/call-pick.ts";
import { createWebPush, type WebPush } from "./push/web-push.ts";
import { badgeText } from "./quality/badge.ts";
import { createRingtone } from "./ringtone.ts";
import { openSession, type Session, type SessionStatus } from "./session.ts";
import {
  type Identity,
  loadCall,
  loadIdentity,
  loadRelayOnly,
  loadResumePoint,
  saveCall,
  saveIdentity,
  saveRelayOnly,
  saveResumePoint,
} from "./settings.ts";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const origin = window.location.origin;
const height = captureHeight(window.location.search);
let identity: Identity | undefined = loadIdentity(sessionStorage);
let session: Session | undefined;
let flow: CallFlow | undefined;
let history: HistoryView | undefined;
let historyTimer: ReturnType<typeof setTimeout> | undefined;
let push: WebPush | undefined;
/** A call picked in a notification, answered as chosen once it rings here. */
let pick: CallPick | undefined = pickFromUrl(new URL(window.location.href));
const notices: Notice[] = [];

function notify(n: Notice): void {
  notices.push(n);
  const banner = $("banner");
  banner.textContent = n.text;
  banner.className = `banner ${n.kind}`;
  banner.hidden = false;
}

function showOnly(view: "signin" | "home" | "incoming" | "call"): void {
  $("signin").hidden = view !== "signin";
  $("home").hidden = view !== "home";
  $("incoming").hidden = view !== "incoming";
  $("call").hidden = view !== "call";
}

function setVideo(el: HTMLVideoElement, stream: MediaStream | undefined): void {
  if (el.srcObject !== (stream ?? null)) el.srcObject = stream ?? null;
}

function render(v: CallView): void {
  if (!identity) {
    showOnly("signin");
    return;
  }
  if (v.phase === "idle") {
    setVideo($("local"), undefined);
    setVideo($("remote"), undefined);
    showOnly("home");
    return;
  }
  if (v.phase === "incoming") {
    $("incoming-title").textContent = `${v.peerUser} is calling…`;
    showOnly("incoming");
    applyPick(v);
    return;
  }
  showOnly("call");
  const inCall = v.phase === "connected" && v.status === "Connected";
  $("call-status").textContent = inCall ? `In call with ${v.peerUser}` : v.status;
  setVideo($("local"), v.local);
  setVideo($("remote"), v.remote);
  $("mute").textContent = v.muted ? "Unmute" : "Mute";
  $("camera").textContent = v.cameraOff ? "Camera on" : "Camera off";
  const badge = $("badge");
  badge.hidden = !v.quality;
  if (v.quality) {
    badge.textContent = badgeText(v.quality, v.path);
    badge.className = `badge ${v.path ?? ""}`;
  }
}

function applyPick(v: CallView): void {
  if (!pick || v.phase !== "incoming" || v.callId !== pick.callId) return;
  const { action } = pick;
  pick = undefined;
  if (action === "accept") queueMicrotask(() => void flow?.accept());
  if (action === "decline") queueMicrotask(() => void flow?.decline());
}

function pushNote(text: string | undefined): void {
  const note = $("push-note");
  note.textContent = text ?? "";
  note.hidden = !text;
}

function historyChanged(): void {
  // The record is written as the call ends; a short delay avoids reading just before it.
  clearTimeout(historyTimer);
  historyTimer = setTimeout(() => void history?.refresh(), 300);
}

function onStatus(status: SessionStatus, error?: unknown): void {
  const conn = $("conn");
  conn.textContent = status === "online" ? "online" : status === "signed_out" ? "signed out" : `${status}…`;
  conn.className = `conn ${status === "online" ? "" : "offline"}`;
  conn.dataset.status = status;
  if (status === "signed_out") {
    notify({ text: `Your sign-in expired or was refused (${String(error)}). Sign in again.`, kind: "error" });
    signOut();
  }
}

function start(id: Identity): void {
  identity = id;
  const api = createApi(origin, () => identity?.token ?? "");
  $("me").textContent = `${id.userId} · ${id.deviceId}`;
  $("signout").hidden = false;
  const relayBox = $<HTMLInputElement>("relay-only");
  relayBox.checked = loadRelayOnly(localStorage);
  relayBox.onchange = () => saveRelayOnly(localStorage, relayBox.checked);
  let active: CallFlow | undefined;
  // A reload resumes the tab's session (same device id) instead of replacing it.
  session = openSession(
    api,
    id.deviceId,
    {
      onEvent: (e) => active?.onEvent(e),
      onStatus,
      onResumePoint: (token, seq) => saveResumePoint(sessionStorage, token, seq),
    },
    loadResumePoint(sessionStorage),
  );
  active = createCallFlow({
    api,
    session,
    ringtone: createRingtone(),
    openMedia: (video) => openMedia(video, height),
    sourceHeight: height,
    relayOnly: () => loadRelayOnly(localStorage),
    render,
    saveCall: (call) => saveCall(sessionStorage, call),
    notify,
    historyChanged,
  });
  flow = active;
  // A reload in the middle of a call: back into it before the session replays anything.
  const saved = loadCall(sessionStorage);
  if (saved) active.rejoin(saved);
  history = createHistoryView(
    api,
    id.userId,
    {
      body: $<HTMLTableElement>("history").tBodies[0] as HTMLTableSectionElement,
      more: $<HTMLButtonElement>("history-more"),
      missedOnly: $<HTMLInputElement>("missed-only"),
      missedCount: $("missed-count"),
    },
    (e) => notify(serverErrorNotice(e)),
  );
  void history.refresh();
  render(flow.view());
  push = createWebPush({
    baseUrl: origin,
    token: id.token,
    userId: id.userId,
    deviceId: id.deviceId,
    note: pushNote,
    registered: () => savePushDevice(localStorage, { userId: id.userId, deviceId: id.deviceId }),
  });
  void push.enable();
}

function signOut(): void {
  void push?.disable();
  push = undefined;
  if (loadPushDevice(localStorage)?.deviceId === identity?.deviceId) savePushDevice(localStorage, undefined);
  session?.close();
  session = undefined;
  flow = undefined;
  identity = undefined;
  saveIdentity(sessionStorage, undefined);
  saveResumePoint(sessionStorage, "", 0n);
  saveCall(sessionStorage, undefined);
  $("me").textContent = "";
  $("signout").hidden = true;
  showOnly("signin");
}

async function signIn(userId: string, deviceId = `web-${crypto.randomUUID().slice(0, 8)}`): Promise<void> {
  try {
    const token = await fetchDevToken(origin, userId);
    const id = { userId, token, deviceId };
    saveIdentity(sessionStorage, id);
    $("banner").hidden = true;
    start(id);
  } catch (err) {
    notify(serverErrorNotice(err));
  }
}

$("signin-form").onsubmit = (e) => {
  e.preventDefault();
  void signIn($<HTMLInputElement>("signin-user").value.trim());
};
$("signout").onclick = signOut;
$("dial-form").onsubmit = (e) => {
  e.preventDefault();
  $("banner").hidden = true;
  void flow?.startCall($<HTMLInputElement>("dial-user").value.trim(), $<HTMLInputElement>("dial-video").checked);
};
$("accept").onclick = () => void flow?.accept();
$("decline").onclick = () => void flow?.decline();
$("hangup").onclick = () => void flow?.hangup();
$("mute").onclick = () => flow?.toggleMute();
$("camera").onclick = () => flow?.toggleCamera();
$("history-refresh").onclick = () => void history?.refresh();

/** Read-only hooks for the end-to-end tests and for debugging in the console. */
Object.assign(window, {
  calldrop: {
    view: () => flow?.view(),
    notices: () => [...notices],
    signedIn: () => identity?.userId,
    deviceId: () => identity?.deviceId,
    pushStatus: () => push?.status() ?? "off",
  },
});

// A notification click on an open page: answer as chosen once the call rings here.
navigator.serviceWorker?.addEventListener("message", (e) => {
  const picked = pickFromMessage(e.data);
  if (!picked) return;
  pick = picked;
  const v = flow?.view();
  if (v) applyPick(v);
});

if (pick) window.history.replaceState(null, "", withoutPick(new URL(window.location.href)));
const notified = pick && !identity ? loadPushDevice(localStorage) : undefined;
if (identity) start(identity);
else if (notified) {
  // Opened from a notification with no tab left: sign in as the notified device, so the ring reaches it.
  $<HTMLInputElement>("signin-user").value = notified.userId;
  showOnly("signin");
  void signIn(notified.userId, notified.deviceId);
} else showOnly("signin");
