/**
 * Per-browser user settings (localStorage) and per-tab identity (sessionStorage,
 * so two tabs of one browser can be two users or two devices).
 */

const RELAY_ONLY = "calldrop.relayOnly";

/** Relay-only privacy mode: media only through TURN, so the peer never learns our IP. */
export function loadRelayOnly(storage: Storage): boolean {
  return storage.getItem(RELAY_ONLY) === "1";
}

/** Saves the relay-only setting. */
export function saveRelayOnly(storage: Storage, on: boolean): void {
  storage.setItem(RELAY_ONLY, on ? "1" : "0");
}

/** Who is signed in on this tab. */
export interface Identity {
  readonly userId: string;
  readonly token: string;
  readonly deviceId: string;
}

const IDENTITY = "calldrop.identity";

/** The tab's identity, if signed in. */
export function loadIdentity(storage: Storage): Identity | undefined {
  try {
    const v = JSON.parse(storage.getItem(IDENTITY) ?? "null") as Partial<Identity> | null;
    return v?.userId && v.token && v.deviceId ? { userId: v.userId, token: v.token, deviceId: v.deviceId } : undefined;
  } catch {
    return undefined;
  }
}

/** Saves (or with undefined, clears) the tab's identity. */
export function saveIdentity(storage: Storage, identity: Identity | undefined): void {
  if (identity) storage.setItem(IDENTITY, JSON.stringify(identity));
  else storage.removeItem(IDENTITY);
}

const RESUME = "calldrop.resume";

/** The tab's saved session resume point, if any. */
export function loadResumePoint(storage: Storage): { resumeToken: string; lastSeq: bigint } | undefined {
  try {
    const v = JSON.parse(storage.getItem(RESUME) ?? "null") as { resumeToken?: string; lastSeq?: string } | null;
    return v?.resumeToken ? { resumeToken: v.resumeToken, lastSeq: BigInt(v.lastSeq ?? "0") } : undefined;
  } catch {
    return undefined;
  }
}

/** Saves (or with an empty token, clears) the resume point. */
export function saveResumePoint(storage: Storage, resumeToken: string, lastSeq: bigint): void {
  if (resumeToken) storage.setItem(RESUME, JSON.stringify({ resumeToken, lastSeq: String(lastSeq) }));
  else storage.removeItem(RESUME);
}

/** The call this tab is in, kept across a page reload so the reloaded page rejoins it. */
export interface SavedCall {
  readonly callId: string;
  readonly role: "caller" | "callee";
  readonly peerUser: string;
  readonly video: boolean;
  /** Origin command ids of the other side's signals already applied (their resends are dropped). */
  readonly applied: readonly string[];
}

const CALL = "calldrop.call";

/** The tab's saved call, if any. */
export function loadCall(storage: Storage): SavedCall | undefined {
  try {
    const v = JSON.parse(storage.getItem(CALL) ?? "null") as Partial<SavedCall> | null;
    if (!v?.callId || (v.role !== "caller" && v.role !== "callee") || typeof v.peerUser !== "string") return undefined;
    const applied = Array.isArray(v.applied) ? v.applied.filter((id) => typeof id === "string") : [];
    return { callId: v.callId, role: v.role, peerUser: v.peerUser, video: v.video === true, applied };
  } catch {
    return undefined;
  }
}

/** Saves (or with undefined, clears) the tab's call. */
export function saveCall(storage: Storage, call: SavedCall | undefined): void {
  if (call) storage.setItem(CALL, JSON.stringify(call));
  else storage.removeItem(CALL);
}
