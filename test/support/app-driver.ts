/**
 * Drives the web client like a person would (clicks and typing), and reads its
 * state through the page's read-only `window.calldrop` hooks.
 */
import type { Page } from "playwright-core";

/** What the tests read of the page's call view (serializable subset). */
export interface PageCall {
  readonly phase: string;
  readonly role?: string;
  readonly callId: string;
  readonly status: string;
  readonly path?: string;
  readonly setupMs?: number;
  readonly acceptAtMs?: number;
  readonly connectedAtMs?: number;
  readonly step?: number;
  readonly sent?: { width: number; height: number; fps: number };
  readonly localCandidateType?: string;
  readonly remoteCandidateType?: string;
  /** udp, tcp or tls when this side's selected local candidate is a relay, else "". */
  readonly relayProtocol?: string;
  readonly localCandidatePort?: number;
  readonly availableOutgoingBitrateBps?: number;
  readonly fractionLost?: number;
  readonly candidateErrors: readonly { errorCode: number; url: string }[];
  /** Frames rendered by the remote <video>. */
  readonly remoteFrames: number;
  /** ICE restarts the page started. */
  readonly iceRestarts: number;
}

type Hooks = { calldrop: { view(): Record<string, unknown> | undefined; notices(): { text: string }[] } };

/** Opens the app and signs in with a dev token. `capture` lowers the camera height (2-core machines). */
export async function signIn(page: Page, baseUrl: string, userId: string, capture = 360): Promise<void> {
  await page.goto(`${baseUrl}/?capture=${capture}`);
  await page.getByTestId("signin-user").fill(userId);
  await page.getByTestId("signin").click();
  await page.waitForFunction(() => document.querySelector("[data-testid=connection]")?.textContent === "online");
}

/** Types the callee and presses Call. */
export async function call(page: Page, callee: string): Promise<void> {
  await page.getByTestId("dial-user").fill(callee);
  await page.getByTestId("dial").click();
}

/**
 * Signs `caller` and `callee` in as themselves, has the caller call the callee and the callee
 * accept, and waits until the caller's media is connected on a known local port.
 */
export async function connectedCall(
  baseUrl: string,
  caller: { name: string; page: Page },
  callee: { name: string; page: Page },
): Promise<PageCall> {
  await signIn(caller.page, baseUrl, caller.name);
  await signIn(callee.page, baseUrl, callee.name);
  await call(caller.page, callee.name);
  await callee.page.getByTestId("accept").click();
  const up = (c: PageCall) => c.phase === "connected" && !!c.localCandidatePort && c.remoteFrames > 0;
  return waitForCall(caller.page, "connected", up);
}

/** Reads the call view. */
export function callState(page: Page): Promise<PageCall> {
  return page.evaluate(() => {
    const v = (window as unknown as Hooks).calldrop.view() ?? {};
    const q = v.quality as
      | {
          step: number;
          stats: {
            sent: { width: number; height: number; fps: number };
            localCandidateType: string;
            remoteCandidateType: string;
            relayProtocol: string;
            localCandidatePort: number;
            availableOutgoingBitrateBps?: number;
            fractionLost?: number;
          };
        }
      | undefined;
    const remote = document.querySelector<HTMLVideoElement>("[data-testid=remote-video]");
    return {
      phase: String(v.phase ?? "idle"),
      role: v.role as string | undefined,
      callId: String(v.callId ?? ""),
      status: String(v.status ?? ""),
      path: v.path as string | undefined,
      setupMs: v.setupMs as number | undefined,
      acceptAtMs: v.acceptAtMs as number | undefined,
      connectedAtMs: v.connectedAtMs as number | undefined,
      step: q?.step,
      sent: q?.stats.sent,
      localCandidateType: q?.stats.localCandidateType,
      remoteCandidateType: q?.stats.remoteCandidateType,
      relayProtocol: q?.stats.relayProtocol,
      localCandidatePort: q?.stats.localCandidatePort,
      availableOutgoingBitrateBps: q?.stats.availableOutgoingBitrateBps,
      fractionLost: q?.stats.fractionLost,
      candidateErrors: (v.candidateErrors as { errorCode: number; url: string }[] | undefined) ?? [],
      remoteFrames: remote?.getVideoPlaybackQuality().totalVideoFrames ?? 0,
      iceRestarts: Number(v.iceRestarts ?? 0),
    };
  });
}

/** Polls `predicate` on the call view until true; throws with the last view on timeout. */
export async function waitForCall(
  page: Page,
  what: string,
  predicate: (c: PageCall) => boolean,
  timeoutMs = 15_000,
): Promise<PageCall> {
  const deadline = Date.now() + timeoutMs;
  let last: PageCall | undefined;
  while (Date.now() < deadline) {
    last = await callState(page);
    if (predicate(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}; last view: ${JSON.stringify(last)}`);
}

/** The banner text (the page's last notice). */
export async function bannerText(page: Page): Promise<string> {
  return (await page.getByTestId("banner").textContent()) ?? "";
}

/** Waits until the banner matches `pattern`. */
export async function waitForText(page: Page, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = "";
  while (Date.now() < deadline) {
    text = await bannerText(page);
    if (pattern.test(text)) return text;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`banner never matched ${pattern}; last: ${JSON.stringify(text)}`);
}

/** One row of the history table. */
export interface HistoryRow {
  readonly callId: string;
  readonly outcome: string;
  readonly path: string;
  /** The path as the row says it: "P2P", "relay", "relay/tls"… */
  readonly pathWords: string;
  readonly durationMs: number;
  readonly samples: number;
  /** The quality score in words, "" for a call without one. */
  readonly quality: string;
  /** The reader's own rating (docs/spec.md §15), "" when none. */
  readonly rating: string;
  readonly missed: boolean;
  readonly text: string;
}

/** Refreshes the history until the row of `callId` satisfies `predicate`. */
export async function waitForHistory(
  page: Page,
  callId: string,
  predicate: (r: HistoryRow) => boolean,
  timeoutMs = 10_000,
): Promise<HistoryRow> {
  const deadline = Date.now() + timeoutMs;
  let rows: HistoryRow[] = [];
  while (Date.now() < deadline) {
    rows = await historyRows(page);
    const row = rows.find((r) => r.callId === callId);
    if (row && predicate(row)) return row;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`history never showed ${callId} as expected; rows: ${JSON.stringify(rows.slice(0, 5))}`);
}

/** History rows as the page shows them (after pressing Refresh). */
export async function historyRows(page: Page): Promise<HistoryRow[]> {
  await page.getByTestId("history-refresh").click();
  await page.waitForTimeout(300);
  return page.$$eval("[data-testid=history-row]", (rows) =>
    rows.map((r) => {
      const el = r as HTMLElement;
      return {
        callId: el.dataset.callId ?? "",
        outcome: el.dataset.outcome ?? "",
        path: el.dataset.path ?? "",
        pathWords: el.dataset.pathWords ?? "",
        durationMs: Number(el.dataset.durationMs ?? 0),
        samples: Number(el.dataset.samples ?? 0),
        quality: el.dataset.quality ?? "",
        rating: el.dataset.rating ?? "",
        missed: el.classList.contains("missed"),
        text: el.textContent ?? "",
      };
    }),
  );
}

/** Ends whatever call the page is in (hang up, cancel or decline) and waits until it is idle. */
export async function resetCall(page: Page): Promise<void> {
  const c = await callState(page);
  if (c.phase === "idle") return;
  if (c.phase === "incoming") await page.getByTestId("decline").click();
  else await page.getByTestId("hangup").click();
  await waitForCall(page, "idle", (v) => v.phase === "idle");
}
