/**
 * What the page tells the person outside the call screen: the banner (one notice at a time, the
 * newest wins), the screen-reader live region, and the "N missed" pill, which counts missed calls
 * until the person looks at them (docs/spec.md §14).
 */
import type { Notice } from "./messages.ts";

/** The elements of the notices. */
export interface NoticeElements {
  readonly box: HTMLElement;
  readonly text: HTMLElement;
  readonly live: HTMLElement;
  readonly missed: HTMLElement;
}

/** The notices of one page. */
export interface NoticeBar {
  /** Shows `n` in the banner. */
  notify(n: Notice): void;
  hide(): void;
  /** Hides the banner if it still shows `n` (a newer notice stays). */
  clear(n: Notice): void;
  /** Tells screen readers; the same text again is still spoken. */
  announce(text: string): void;
  /** A missed call: a banner and one more in the pill. */
  missedCall(callId: string, callerUserId: string): void;
  /** The person saw the missed calls (or signed out): the pill goes. */
  seenMissed(): void;
  /** Every notice shown so far, oldest first (for the end-to-end tests). */
  shown(): readonly Notice[];
}

/** Binds the notices to their elements. */
export function createNoticeBar(els: NoticeElements): NoticeBar {
  const notices: Notice[] = [];
  const missed = new Set<string>();
  const showMissed = () => {
    const n = missed.size;
    els.missed.hidden = n === 0;
    els.missed.textContent = `${n} missed`;
    els.missed.setAttribute("aria-label", `${n} missed ${n === 1 ? "call" : "calls"} — show them`);
  };
  const bar: NoticeBar = {
    notify(n) {
      notices.push(n);
      els.text.textContent = n.text;
      els.box.className = `banner ${n.kind}`;
      els.box.hidden = false;
    },
    hide() {
      els.box.hidden = true;
    },
    clear(n) {
      if (els.text.textContent === n.text) bar.hide();
    },
    announce(text) {
      els.live.textContent = els.live.textContent === text ? `${text}\u00a0` : text;
    },
    missedCall(callId, callerUserId) {
      bar.notify({ text: `Missed call from ${callerUserId}.`, kind: "error" });
      missed.add(callId);
      showMissed();
    },
    seenMissed() {
      missed.clear();
      showMissed();
    },
    shown: () => [...notices],
  };
  return bar;
}
