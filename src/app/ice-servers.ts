/**
 * Builds the answer of `GetIceServers` (docs/spec.md §5): STUN and TURN URLs with a
 * time-limited TURN REST credential as coturn's `use-auth-secret` expects —
 * username `${expiryUnixSeconds}:${callId or userId}`, credential
 * base64(HMAC-SHA1(secret, username)). Pure: the HMAC comes in as a port and time is passed in.
 */
import type { RelayProtocol } from "../domain/call-types.ts";
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
  /**
   * e.g. ["turn:turn.example.com:3478?transport=udp", "turn:turn.example.com:3478?transport=tcp",
   * "turns:turn.example.com:443?transport=tcp"]; may be empty. Answered in the order clients
   * should try them, whatever their order here (`turnUrlOrder`).
   */
  readonly turnUrls: readonly string[];
  /** coturn's `static-auth-secret`. Required when `turnUrls` is non-empty. */
  readonly turnSecret?: string | undefined;
  /** Lifetime of a TURN credential, seconds (coturn refuses it afterwards). */
  readonly credentialTtlS: number;
  /** Operators can force every client into relay-only mode (privacy, or testing the relay path). */
  readonly forceRelay?: boolean | undefined;
  /**
   * coturn's per-session bandwidth cap (`max-bps`, bytes/s, 0 = none), as the TURN fleet is
   * configured: the relay bitrate hint must stay under it (src/config.ts checks).
   */
  readonly relayMaxBps?: number | undefined;
}

/** Sensible local defaults: no servers (loopback host candidates suffice), 1 h credentials. */
export const DEFAULT_ICE_CONFIG: IceConfig = { stunUrls: [], turnUrls: [], credentialTtlS: 3600 };

/**
 * The transport of a TURN URL, i.e. the relay protocol a client using it reports (RFC 7065: `turn:` defaults to UDP, `turns:` is TLS over TCP),
 * or an error text for a URL that is not one a browser can use.
 */
export function turnTransport(url: string): RelayProtocol | string {
  const m = /^(turns?):(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?(?:\?transport=(udp|tcp))?$/.exec(url);
  if (!m) return `ice: not a TURN URL (turn[s]:host[:port][?transport=udp|tcp]): ${url}`;
  const [, scheme, , port, transport] = m;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65_535)) return `ice: bad port in ${url}`;
  if (scheme === "turns") return transport === "udp" ? `ice: turns: is TLS over TCP, not udp: ${url}` : "tls";
  return transport === "tcp" ? "tcp" : "udp";
}

const TRANSPORT_RANK: Record<RelayProtocol, number> = { udp: 0, tcp: 1, tls: 2 };

/**
 * The TURN URLs in the order clients should try them (docs/spec.md §5): UDP (least latency and
 * overhead), then TCP (UDP blocked), then TLS (only TLS gets through, e.g. to port 443); the
 * configured order within one transport. Browsers prefer earlier servers of a list and, at
 * equal standing, UDP over TCP over TLS relays.
 */
export function turnUrlOrder(urls: readonly string[]): string[] {
  const rank = (url: string) => {
    const t = turnTransport(url);
    return t === "udp" || t === "tcp" || t === "tls" ? TRANSPORT_RANK[t] : 3;
  };
  return urls
    .map((url, i) => ({ url, i, r: rank(url) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((e) => e.url);
}

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
      urls: turnUrlOrder(config.turnUrls),
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
  for (const url of config.stunUrls) {
    if (!/^stuns?:/.test(url)) problems.push(`ice: not a STUN URL: ${url}`);
  }
  for (const url of config.turnUrls) {
    const transport = turnTransport(url);
    if (transport !== "udp" && transport !== "tcp" && transport !== "tls") problems.push(transport);
  }
  if (new Set(config.turnUrls).size !== config.turnUrls.length) problems.push("ice.turnUrls lists a URL twice");
  if (config.turnUrls.length > 0 && !config.turnSecret) problems.push("ice.turnSecret is required with turnUrls");
  if (!Number.isInteger(config.credentialTtlS) || config.credentialTtlS < 60) {
    problems.push("ice.credentialTtlS must be an integer ≥ 60");
  }
  if (config.forceRelay && config.turnUrls.length === 0) problems.push("ice.forceRelay needs turnUrls");
  const cap = config.relayMaxBps ?? 0;
  if (!Number.isInteger(cap) || cap < 0) problems.push("ice.relayMaxBps must be an integer ≥ 0 (bytes/s, 0 = none)");
  return problems;
}
