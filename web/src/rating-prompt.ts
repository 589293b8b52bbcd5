/**
 * The "How was the call?" card (docs/spec.md §15 "Post-call rating"): after an answered call
 * ends, the page asks the server whether the call is in the rating sample (the history record's
 * rating_requested) and, when it is and this user has not rated it, shows five score buttons,
 * optional reasons and a comment. Sending stores the rating (RateCall); "Not now" just hides it.
 */
import type { CallRecord } from "../../gen/calldrop/v1/call_pb.js";
import type { Api } from "./api.ts";
import { myRating } from "./rating-words.ts";

/** The DOM the card lives in. */
export interface RatingElements {
  readonly card: HTMLElement;
  readonly withText: HTMLElement;
  readonly form: HTMLFormElement;
  /** The five score buttons, each with `data-score` 1–5. */
  readonly scores: readonly HTMLButtonElement[];
  /** Reason checkboxes whose value is a RatingReason number. */
  readonly reasons: readonly HTMLInputElement[];
  readonly comment: HTMLTextAreaElement;
  readonly send: HTMLButtonElement;
  readonly skip: HTMLButtonElement;
}

/** What the card tells the page. */
export interface RatingHooks {
  onError(e: unknown): void;
  /** Says a change out loud (screen readers). */
  announce(text: string): void;
  /** A rating was stored (the history shows it). */
  rated(): void;
}

/** The card bound to its elements. */
export interface RatingPrompt {
  /** After `callId` with `peer` ended: shows the card when the server asks for a rating. */
  ask(callId: string, peer: string): Promise<void>;
  hide(): void;
}

/** Reads of the record while its outcome is being written as the call ends (about 3 s at most). */
const recordReads = 10;
const recordReadGapMs = 300;

/** Binds the card; `me` is the signed-in user id. */
export function createRatingPrompt(api: Api, me: string, el: RatingElements, hooks: RatingHooks): RatingPrompt {
  let callId = "";
  let score = 0;

  function pick(n: number): void {
    score = n;
    for (const b of el.scores) b.setAttribute("aria-pressed", String(Number(b.dataset.score) === n));
    el.send.disabled = false;
  }

  function hide(): void {
    callId = "";
    el.card.hidden = true;
  }

  function show(id: string, peer: string): void {
    callId = id;
    score = 0;
    for (const b of el.scores) b.setAttribute("aria-pressed", "false");
    for (const r of el.reasons) r.checked = false;
    el.comment.value = "";
    el.send.disabled = true;
    el.withText.textContent = `Your call with ${peer} has ended. Rate it from 1 (bad) to 5 (excellent).`;
    el.card.hidden = false;
    hooks.announce(`How was the call with ${peer}? Rate it from 1 to 5, or choose Not now.`);
  }

  /** The record once it has its outcome (written as the call ends), or undefined. */
  async function endedRecord(id: string): Promise<CallRecord | undefined> {
    for (let i = 0; i < recordReads; i++) {
      const { call } = await api.history.getCall({ callId: id });
      if (call && call.outcome !== 0) return call;
      await new Promise((r) => setTimeout(r, recordReadGapMs));
    }
    return undefined;
  }

  for (const b of el.scores) b.onclick = () => pick(Number(b.dataset.score));
  el.skip.onclick = hide;
  el.form.onsubmit = async (ev) => {
    ev.preventDefault();
    if (!callId || score === 0) return;
    const rated = score;
    try {
      await api.history.rateCall({
        callId,
        score: rated,
        reasons: el.reasons.filter((r) => r.checked).map((r) => Number(r.value)),
        comment: el.comment.value,
      });
      hide();
      hooks.announce(`Thanks: you rated the call ${rated} out of 5.`);
      hooks.rated();
    } catch (e) {
      hooks.onError(e);
    }
  };

  return {
    hide,
    async ask(id, peer) {
      try {
        const call = await endedRecord(id);
        if (call?.ratingRequested && !myRating(call, me)) show(id, peer);
      } catch (e) {
        hooks.onError(e);
      }
    },
  };
}
