/**
 * The page's composition root: sign-in, the device session, the call flow, the
 * history table and the DOM bindings. Exposes `window.calldrop` (read-only views)
 * for the end-to-end tests.
 */
import { createApi, fetchDevToken } from "./api.ts";
import { createBlockView } from "./block-view.ts";
import { type CallFlow, type CallView, createCallFlow } from "./call-flow.ts";
import { createCallScreen } from "./call-screen.ts";
import type { CallTag } from "./call-state.ts";
import { bindCallWaitingSetting } from "./call-waiting-setting.ts";
import { createHistoryView, type HistoryView } from "./history-view.ts";
import { captureHeight, openMedia } from "./media.ts";
import { OFFLINE_NOTICE, serverErrorNotice } from "./messages.ts";
import { createNoticeBar } from "./notice-bar.ts";
import {
  type CallPick,
  loadPushDevice,
  pickFromMessage,
  pickFromUrl,
  savePushDevice,
  withoutPick,
} from "./push/call-pick.ts";
import { createWebPush, type WebPush } from "./push/web-push.ts";
import { createRatingPrompt, type RatingPrompt } from "./rating-prompt.ts";
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

/** Runs the page; all of its state lives in this call, not in the module (docs/style.md rule 6). */
function main(): void {
  const origin = window.location.origin;
  const height = captureHeight(window.location.search);
  let identity: Identity | undefined = loadIdentity(sessionStorage);
  let session: Session | undefined;
  let flow: CallFlow | undefined;
  let history: HistoryView | undefined;
  let rating: RatingPrompt | undefined;
  let historyTimer: ReturnType<typeof setTimeout> | undefined;
  let push: WebPush | undefined;
  /** A call picked in a notification, answered as chosen once it rings here. */
  let pick: CallPick | undefined = pickFromUrl(new URL(window.location.href));
  const ringtone = createRingtone();
  const notices = createNoticeBar({
    box: $("banner-box"),
    text: $("banner"),
    live: $("announce"),
    missed: $("missed"),
  });
  const { notify, announce } = notices;
  const callScreen = createCallScreen(
    {
      screen: $("call"),
      status: $("call-status"),
      timer: $("call-timer"),
      avatar: $("call-avatar"),
      who: $("call-who"),
      local: $("local"),
      remote: $("remote"),
      peerCameraOff: $("peer-camera-off"),
      peerMuted: $("peer-muted"),
      mute: $("mute"),
      camera: $("camera"),
      hangup: $("hangup"),
      badge: $("badge"),
      waiting: $("waiting"),
      waitingTitle: $("waiting-title"),
    },
    announce,
  );
  let sessionStatus: SessionStatus = "connecting";
  /** The call state last rendered, to act on changes (focus, announcements, the timer). */
  let shownTag: CallTag = "idle";

  function showOnly(view: "signin" | "home" | "incoming" | "call"): void {
    $("signin").hidden = view !== "signin";
    $("home").hidden = view !== "home";
    $("incoming").hidden = view !== "incoming";
    $("call").hidden = view !== "call";
  }

  function render(v: CallView): void {
    if (!identity) {
      showOnly("signin");
      return;
    }
    const s = v.state;
    const changed = s.tag !== shownTag;
    const prevTag = shownTag;
    const wasHome = prevTag === "idle" || prevTag === "ended";
    shownTag = s.tag;
    callScreen.runTimer(v);
    // An answered call ended: the server says whether to ask for a rating (docs/spec.md §15).
    const answered = prevTag === "connecting" || prevTag === "in_call" || prevTag === "reconnecting";
    if (changed && s.tag === "ended" && answered && s.callId) void rating?.ask(s.callId, s.peer);
    if (v.phase === "idle") {
      callScreen.clearVideos();
      showOnly("home");
      if (changed && !wasHome && (document.activeElement === document.body || !document.activeElement)) {
        $("dial-user").focus();
      }
      return;
    }
    if (v.phase === "incoming") {
      $("incoming-title").textContent = `${v.peerUser} is calling…`;
      $("incoming-avatar").textContent = v.peerUser.slice(0, 1);
      $("incoming-kind").textContent = v.state.tag === "incoming" && !v.state.video ? "Audio call" : "Video call";
      showOnly("incoming");
      if (changed) {
        announce(`${v.peerUser} is calling. Accept or decline.`);
        $("accept").focus();
      }
      applyPick(v);
      return;
    }
    showOnly("call");
    callScreen.show(v, changed, prevTag);
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

  const STATUS_TEXT: Record<SessionStatus, string> = {
    online: "online",
    connecting: "connecting…",
    offline: "No connection — reconnecting…",
    signed_out: "signed out",
  };

  function onStatus(status: SessionStatus, error?: unknown): void {
    const conn = $("conn");
    conn.textContent = STATUS_TEXT[status];
    conn.className = `conn ${status === "online" ? "" : "offline"}`;
    conn.dataset.status = status;
    if (status === "online") notices.clear(OFFLINE_NOTICE);
    sessionStatus = status;
    if (status === "signed_out") {
      notify(serverErrorNotice(error));
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
      ringtone,
      openMedia: (video) => openMedia(video, height),
      sourceHeight: height,
      relayOnly: () => loadRelayOnly(localStorage),
      render,
      saveCall: (call) => saveCall(sessionStorage, call),
      notify,
      clearNotice: notices.clear,
      missedCall: notices.missedCall,
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
    rating?.hide();
    rating = createRatingPrompt(
      api,
      id.userId,
      {
        card: $("rating"),
        withText: $("rating-with"),
        form: $<HTMLFormElement>("rating-form"),
        scores: [...document.querySelectorAll<HTMLButtonElement>("#rating [data-score]")],
        reasons: [...document.querySelectorAll<HTMLInputElement>("#rating .reasons input")],
        comment: $<HTMLTextAreaElement>("rating-comment"),
        send: $<HTMLButtonElement>("rating-send"),
        skip: $<HTMLButtonElement>("rating-skip"),
      },
      { onError: (e) => notify(serverErrorNotice(e)), announce, rated: () => void history?.refresh() },
    );
    void bindCallWaitingSetting(
      api,
      $<HTMLInputElement>("call-waiting"),
      (e) => notify(serverErrorNotice(e)),
      announce,
    );
    void createBlockView(
      api,
      {
        form: $<HTMLFormElement>("block-form"),
        input: $<HTMLInputElement>("block-user"),
        list: $<HTMLUListElement>("blocked-list"),
        empty: $("blocked-empty"),
      },
      (e) => notify(serverErrorNotice(e)),
      announce,
    ).refresh();
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
    rating?.hide();
    rating = undefined;
    notices.seenMissed();
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
      notices.hide();
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
    // Commands wait for the connection: say so now instead of ringing nobody.
    if (sessionStatus === "offline") return notify(OFFLINE_NOTICE);
    notices.hide();
    void flow?.startCall($<HTMLInputElement>("dial-user").value.trim(), $<HTMLInputElement>("dial-video").checked);
  };
  $("accept").onclick = () => void flow?.accept();
  // The ringing screen is a dialog: Escape declines, as it closes any dialog.
  $("incoming").onkeydown = (e) => {
    if (e.key === "Escape") void flow?.decline();
  };
  $("decline").onclick = () => void flow?.decline();
  $("hangup").onclick = () => void flow?.hangup();
  $("waiting-accept").onclick = () => flow?.endAndAccept();
  $("waiting-decline").onclick = () => flow?.declineWaiting();
  $("mute").onclick = () => flow?.toggleMute();
  $("camera").onclick = () => flow?.toggleCamera();
  $("history-refresh").onclick = () => void history?.refresh();
  $("banner-close").onclick = notices.hide;
  $("missed").onclick = () => {
    notices.seenMissed();
    const only = $<HTMLInputElement>("missed-only");
    only.checked = true;
    only.dispatchEvent(new Event("change"));
    $("history-heading").scrollIntoView();
  };

  /** Read-only hooks for the end-to-end tests and for debugging in the console. */
  Object.assign(window, {
    calldrop: {
      view: () => flow?.view(),
      notices: notices.shown,
      signedIn: () => identity?.userId,
      deviceId: () => identity?.deviceId,
      pushStatus: () => push?.status() ?? "off",
      tone: () => ringtone.playing,
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
}

main();
