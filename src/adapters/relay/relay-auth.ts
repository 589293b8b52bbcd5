/**
 * Node-to-node authentication of relay streams (docs/spec.md §9): the caller signs
 * (from, to, link, time) with the cluster's shared secret; the receiver recomputes the
 * HMAC, compares in constant time and refuses stale tokens. Binding `to` stops a token
 * for one node from being replayed against another. The receiver accepts several
 * secrets so the cluster secret rotates node by node without refusing a stream
 * (docs/key-rotation.md).
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** Request headers of a relay stream. */
export const RELAY_HEADERS = {
  from: "x-calldrop-relay-from",
  link: "x-calldrop-relay-link",
  auth: "x-calldrop-relay-auth",
} as const;

/** What a relay token vouches for. */
export interface RelayClaims {
  /** Sending node id. */
  readonly from: string;
  /** Receiving node id. */
  readonly to: string;
  /** Link id (one per sender incarnation). */
  readonly link: string;
}

/** Shortest accepted shared secret, in bytes. */
export const MIN_RELAY_SECRET_BYTES = 16;

/** Throws when the shared secret is too short to be one. */
export function assertRelaySecret(secret: string): void {
  if (Buffer.byteLength(secret) < MIN_RELAY_SECRET_BYTES) {
    throw new Error(`relay secret must be at least ${MIN_RELAY_SECRET_BYTES} bytes`);
  }
}

function mac(secret: string, claims: RelayClaims, atMs: number): Buffer {
  return createHmac("sha256", secret)
    .update(`calldrop-relay-v1\n${claims.from}\n${claims.to}\n${claims.link}\n${atMs}`)
    .digest();
}

/** Creates the `x-calldrop-relay-auth` value: `<unix ms>.<hex hmac>`. */
export function signRelayToken(secret: string, claims: RelayClaims, nowMs: number): string {
  return `${nowMs}.${mac(secret, claims, nowMs).toString("hex")}`;
}

/** True when `token` was signed with one of `secrets` for exactly `claims`, within `maxSkewMs` of `nowMs`. */
export function verifyRelayToken(
  secrets: readonly string[],
  token: string,
  claims: RelayClaims,
  nowMs: number,
  maxSkewMs: number,
): boolean {
  const match = /^(\d{1,15})\.([0-9a-f]{64})$/.exec(token);
  if (!match?.[1] || !match[2]) return false;
  const atMs = Number(match[1]);
  if (Math.abs(nowMs - atMs) > maxSkewMs) return false;
  const given = Buffer.from(match[2], "hex");
  return secrets.some((secret) => timingSafeEqual(given, mac(secret, claims, atMs)));
}
