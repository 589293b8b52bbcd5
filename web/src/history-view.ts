/**
 * The call history table: the signed-in user's calls, newest first, paged with
 * "Older…", filterable to missed calls; missed calls are highlighted; each call's
 * quality score in words and the user's own rating, "You rated 4/5" (docs/spec.md §15).
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { CallOutcome, type CallRecord, PathType } from "../../gen/calldrop/v1/call_pb.js";
import type { Api } from "./api.ts";
import { pathInWords } from "./media-path.ts";
import { qualityInWords } from "./quality-words.ts";
import { myRating, ratingInWords } from "./rating-words.ts";

/** The DOM the table lives in. */
export interface HistoryElements {
  readonly body: HTMLTableSectionElement;
  readonly more: HTMLButtonElement;
  readonly missedOnly: HTMLInputElement;
  readonly missedCount: HTMLElement;
}

/** A history table bound to its elements. */
export interface HistoryView {
  /** Reloads the first page. */
  refresh(): Promise<void>;
}

const OUTCOME: Record<number, string> = {
  [CallOutcome.COMPLETED]: "completed",
  [CallOutcome.MISSED]: "missed",
  [CallOutcome.DECLINED]: "declined",
  [CallOutcome.CANCELLED]: "cancelled",
  [CallOutcome.BUSY]: "busy",
  [CallOutcome.UNREACHABLE]: "unreachable",
  [CallOutcome.FAILED]: "failed",
};

/** Binds the table; `me` is the signed-in user id. */
export function createHistoryView(
  api: Api,
  me: string,
  el: HistoryElements,
  onError: (e: unknown) => void,
): HistoryView {
  let nextToken = "";
  let generation = 0;

  async function load(append: boolean): Promise<void> {
    const gen = ++generation;
    try {
      const res = await api.history.listCalls({
        pageSize: 20,
        pageToken: append ? nextToken : "",
        missedOnly: el.missedOnly.checked,
      });
      if (gen !== generation) return;
      if (!append) el.body.replaceChildren();
      for (const call of res.calls) el.body.append(row(call, me));
      nextToken = res.nextPageToken;
      el.more.hidden = nextToken === "";
      const missed = el.body.querySelectorAll("tr.missed").length;
      el.missedCount.hidden = missed === 0;
      el.missedCount.textContent = `${missed} missed`;
    } catch (e) {
      onError(e);
    }
  }

  el.more.onclick = () => void load(true);
  el.missedOnly.onchange = () => void load(false);
  return { refresh: () => load(false) };
}

function row(call: CallRecord, me: string): HTMLTableRowElement {
  const incoming = call.calleeUserId === me;
  const outcome = OUTCOME[call.outcome] ?? "unknown";
  const tr = document.createElement("tr");
  tr.dataset.testid = "history-row";
  tr.dataset.callId = call.callId;
  tr.dataset.outcome = outcome;
  tr.dataset.path = call.path === PathType.RELAY ? "relay" : call.path === PathType.P2P ? "p2p" : "";
  tr.dataset.pathWords = pathInWords(call.path, call.quality?.relayProtocol);
  tr.dataset.durationMs = String(call.durationMs);
  tr.dataset.samples = String(call.quality?.samples ?? 0);
  tr.dataset.quality = qualityInWords(call.quality, me) ?? "";
  tr.dataset.rating = String(myRating(call, me)?.score ?? "");
  if (incoming && call.outcome === CallOutcome.MISSED) tr.className = "missed";
  const q = call.quality;
  const cells = [
    incoming ? "↙ in" : "↗ out",
    incoming ? call.callerUserId : call.calleeUserId,
    call.startedAt ? timestampDate(call.startedAt).toLocaleString() : "",
    incoming && call.outcome === CallOutcome.MISSED ? "missed" : outcome,
    call.durationMs > 0n ? formatDuration(Number(call.durationMs)) : "—",
    tr.dataset.pathWords,
    call.setupMs > 0 ? `${call.setupMs} ms` : "—",
    q && q.samples > 0
      ? [
          qualityInWords(q, me),
          `loss ${(q.avgFractionLost * 100).toFixed(1)}% · RTT ${Math.round(q.avgRttMs)} ms · jitter ${Math.round(q.avgJitterMs)} ms · ${Math.round(q.avgBitrateBps / 1000)} kbps · ${q.resolutionChanges} res. changes`,
        ]
          .filter((part) => part !== undefined)
          .join(" · ")
      : "—",
    ratingInWords(call, me) ?? "—",
  ];
  for (const text of cells) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.append(td);
  }
  return tr;
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
