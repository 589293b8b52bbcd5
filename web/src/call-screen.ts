/**
 * The call screen (outgoing, connecting, in call, reconnecting): the peer's name and avatar, the
 * call timer, the peer's media state (camera off, muted; docs/spec.md §14), the local and remote
 * videos, the control buttons, the quality badge and a waiting call's banner ("End & accept" /
 * "Decline", docs/spec.md §14 "Call waiting"). A view of `CallView` and nothing else: what
 * to show follows from the view, and the only state kept here is the timer.
 */
import type { CallView } from "./call-flow.ts";
import type { CallTag } from "./call-state.ts";
import { clock } from "./messages.ts";
import { badgeText } from "./quality/badge.ts";

/** The call screen's elements. */
export interface CallScreenElements {
  readonly screen: HTMLElement;
  readonly status: HTMLElement;
  readonly timer: HTMLElement;
  readonly avatar: HTMLElement;
  readonly who: HTMLElement;
  readonly local: HTMLVideoElement;
  readonly remote: HTMLVideoElement;
  readonly peerCameraOff: HTMLElement;
  readonly peerMuted: HTMLElement;
  readonly mute: HTMLElement;
  readonly camera: HTMLElement;
  readonly hangup: HTMLElement;
  readonly badge: HTMLElement;
  /** The waiting call's banner and its title. */
  readonly waiting: HTMLElement;
  readonly waitingTitle: HTMLElement;
}

/** The call screen of one page. */
export interface CallScreen {
  /** Shows `v` (a call in progress); `changed` when its state tag differs from the last one shown. */
  show(v: CallView, changed: boolean, previous: CallTag): void;
  /** Runs the call timer while the media is connected (or being got back), hides it otherwise. */
  runTimer(v: CallView): void;
  /** Drops both videos (back home). */
  clearVideos(): void;
}

/** Sets a video's stream only when it changes (setting it again restarts playback). */
function setVideo(el: HTMLVideoElement, stream: MediaStream | undefined): void {
  if (el.srcObject !== (stream ?? null)) el.srcObject = stream ?? null;
}

/** Binds the call screen to its elements; `announce` tells screen readers. */
export function createCallScreen(els: CallScreenElements, announce: (text: string) => void): CallScreen {
  let callTimer: ReturnType<typeof setInterval> | undefined;
  /** The waiting call shown, to announce and focus a new one once. */
  let waitingShown = "";
  /** Shows the waiting call's banner: announced, and focus moves to it (its first button next). */
  function showWaiting(v: CallView): void {
    const w = v.waiting;
    els.waiting.hidden = !w;
    if (!w) {
      if (waitingShown && els.waiting.contains(document.activeElement)) els.status.focus();
      waitingShown = "";
      return;
    }
    const kind = w.video ? "Video call" : "Audio call";
    els.waitingTitle.textContent = `${w.peer} is calling · ${kind}`;
    if (waitingShown === w.callId) return;
    waitingShown = w.callId;
    announce(`${w.peer} is calling while you are in a call. End and accept, or decline.`);
    els.waiting.focus();
  }
  return {
    show(v, changed, previous) {
      const s = v.state;
      els.screen.dataset.state = s.tag;
      const inCall = s.tag === "in_call";
      els.status.textContent = inCall ? `In call with ${v.peerUser}` : v.status;
      if (changed) announce(inCall ? `Connected to ${v.peerUser}.` : v.status);
      els.avatar.textContent = v.peerUser.slice(0, 1);
      const peerCameraOff = v.peerCameraOff && inCall;
      els.who.hidden = v.remote !== undefined && inCall && !peerCameraOff;
      els.remote.classList.toggle("covered", peerCameraOff);
      els.remote.setAttribute(
        "aria-label",
        peerCameraOff ? `${v.peerUser}'s camera is off` : "The other person's video",
      );
      els.peerCameraOff.hidden = !peerCameraOff;
      els.peerMuted.textContent = v.peerMuted ? `${v.peerUser} is muted` : "";
      els.peerMuted.hidden = !v.peerMuted;
      setVideo(els.local, v.local);
      setVideo(els.remote, v.remote);
      els.mute.textContent = v.muted ? "Unmute" : "Mute";
      els.mute.classList.toggle("off", v.muted);
      els.camera.textContent = v.cameraOff ? "Camera on" : "Camera off";
      els.camera.classList.toggle("off", v.cameraOff);
      els.hangup.textContent = s.tag === "outgoing" ? "Cancel" : "Hang up";
      // Into the call screen (from home or the ringing screen, whose Accept is gone): focus its heading.
      const fromHome = previous === "idle" || previous === "ended";
      if (changed && (fromHome || previous === "incoming")) els.status.focus();
      showWaiting(v);
      els.badge.hidden = !v.quality;
      if (v.quality) {
        els.badge.textContent = badgeText(v.quality, v.path);
        els.badge.className = `badge ${v.path ?? ""}`;
      }
    },
    runTimer(v) {
      const s = v.state;
      clearInterval(callTimer);
      callTimer = undefined;
      if (s.tag !== "in_call" && s.tag !== "reconnecting") {
        els.timer.hidden = true;
        return;
      }
      const tick = () => {
        els.timer.textContent = clock(Date.now() - s.connectedAtMs);
      };
      tick();
      els.timer.hidden = false;
      callTimer = setInterval(tick, 1_000);
    },
    clearVideos() {
      setVideo(els.local, undefined);
      setVideo(els.remote, undefined);
    },
  };
}
