/**
 * Builds the answer of `GetIceServers` (docs/spec.md §5): STUN and TURN URLs with a
 * time-limited TURN REST credential as coturn's `use-auth-secret` expects —
 * username `${expiryUnixSeconds}:${callId or userId}`, credential
 * base64(HMAC-SHA1(secret, username)). Pure: the HMAC comes in as a port and time is passed in.
 */
import { DomainError } from "../domain/errors.ts";
import { checkCallId } from "../domain/limits.ts";
import type { CallDirectory } from "./ports/call-directory.ts";
import type { Digests } from "./ports/digests.ts";

/**
 * ICE/TURN settings: the `ice` section of the config tree (src/config.ts). The
 * secret comes from env/secret (CALLDROP_ICE__TURN_SECRET), never the repo.
 */
export interface IceConfig {
  /** e.g. ["stun:turn.example.com:3478"]; may be empty. */
  readonly stunUrls: readonly string[];
  /** e.g. ["turn:turn.example.com:3478?transport=udp", "turns:turn.example.com:5349?transport=tcp"]; may be empty. */
  readonly turnUrls: readonly string[];
  /** coturn's `static-auth-secret`. Required when `turnUrls` is non-empty. */
  readonly turnSecret?: string | undefined;
  /** Lifetime of a TURN credential, seconds (coturn refuses it afterwards). */
  readonly credentialTtlS: number;
  /** Operators can force every client into relay-only mode (privacy, or testing the relay path). */
  readonly forceRelay?: boolean | undefined;
}

/** Sensible local defaults: no servers (loopback host candidates suffice), 1 h credentials. */
export const DEFAULT_ICE_CONFIG: IceConfig = { stunUrls: [], turnUrls: [], credentialTtlS: 3600 };

/** One RTCIceServer entry (empty username/credential for STUN, as in the proto). */
export interface IceServerEntry {
  readonly urls: readonly string[];
  readonly username: string;
  readonly credential: string;
}

/** What GetIceServers returns, before protobuf mapping. */
export interface IceServersAnswer {
  readonly iceServers: readonly IceServerEntry[];
  readonly ttlSeconds: number;
  readonly relayOnly: boolean;
}

/** Who asks, and for which call. */
export interface IceServersRequest {
  readonly userId: string;
  /** When set, the credential is scoped to (and accounted by coturn under) this call. */
  readonly callId?: string;
}

/** The TURN REST credential for `username` (coturn `use-auth-secret`). */
export function turnCredential(secret: string, username: string, digests: Digests): string {
  return digests.hmacSha1Base64(secret, username);
}

/** The TURN REST username valid until `expiryUnixSeconds`; `id` is printable ASCII without ':' (coturn splits on it). */
export function turnUsername(expiryUnixSeconds: number, id: string): string {
  if (!/^[\x21-\x39\x3b-\x7e]+$/.test(id)) throw new Error("a TURN username id must be printable ASCII without ':'");
  return `${Math.floor(expiryUnixSeconds)}:${id}`;
}

/**
 * Checks who may have a credential for what: without a call id, any user (the credential
 * is scoped to the user); with one, only a participant of that call while it is in
 * progress. Throws invalid_argument for a malformed id, not_found for no such call in
 * progress, not_participant for someone else's call.
 */
export async function checkIceServersRequest(
  request: IceServersRequest,
  calls: Pick<CallDirectory, "find">,
): Promise<void> {
  if (!request.callId) return;
  checkCallId(request.callId);
  const live = await calls.find(request.callId);
  if (!live || live.state.phase === "ended") throw new DomainError("not_found", "no such call in progress");
  const { caller, calleeUserId } = live.state.call;
  if (caller.userId !== request.userId && calleeUserId !== request.userId) {
    throw new DomainError("not_participant", "you are not a participant of this call");
  }
}

/** Builds the GetIceServers answer for `request` at `nowMs`. */
export function buildIceServers(
  config: IceConfig,
  request: IceServersRequest,
  nowMs: number,
  digests: Digests,
): IceServersAnswer {
  const iceServers: IceServerEntry[] = [];
  if (config.stunUrls.length > 0) iceServers.push({ urls: [...config.stunUrls], username: "", credential: "" });
  if (config.turnUrls.length > 0) {
    if (!config.turnSecret) throw new Error("ice.turnSecret is required when ice.turnUrls is set");
    const username = turnUsername(nowMs / 1000 + config.credentialTtlS, request.callId || request.userId);
    iceServers.push({
      urls: [...config.turnUrls],
      username,
      credential: turnCredential(config.turnSecret, username, digests),
    });
  }
  return {
    iceServers,
    ttlSeconds: config.turnUrls.length > 0 ? config.credentialTtlS : 0,
    relayOnly: config.forceRelay === true,
  };
}

/** Validates an IceConfig at boot; returns the problems found (empty when fine). */
export function validateIceConfig(config: IceConfig): string[] {
  const problems: string[] = [];
  const scheme = /^(stun|stuns|turn|turns):/;
  for (const url of [...config.stunUrls, ...config.turnUrls]) {
    if (!scheme.test(url)) problems.push(`ice: not a STUN/TURN URL: ${url}`);
  }
  if (config.turnUrls.length > 0 && !config.turnSecret) problems.push("ice.turnSecret is required with turnUrls");
  if (!Number.isInteger(config.credentialTtlS) || config.credentialTtlS < 60) {
    problems.push("ice.credentialTtlS must be an integer ≥ 60");
  }
  if (config.forceRelay && config.turnUrls.length === 0) problems.push("ice.forceRelay needs turnUrls");
  return problems;
}
