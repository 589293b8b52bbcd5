/**
 * Webhook signatures as the Standard Webhooks specification defines them (docs/spec.md §9
 * "Webhooks"): headers `webhook-id` (the event id), `webhook-timestamp` (the attempt's Unix time in
 * seconds) and `webhook-signature`, a space-separated list of `v1,<base64 HMAC-SHA256>` over
 * `<id>.<timestamp>.<body>`, one per secret of the endpoint (two during a rotation). A secret is
 * `whsec_` and the base64 of at least 24 random bytes; the HMAC key is those bytes.
 *
 * Symmetric: `signWebhook` (the sender) beside `verifyWebhook` (for receivers: it depends on
 * node:crypto only, so a receiver can copy this file). A receiver rejects a timestamp more than
 * 5 minutes from its clock (a captured request cannot be replayed later) and drops a webhook-id
 * it already processed (a replay inside the window, or a redelivery).
 */
import { createHmac, timingSafeEqual } from "node:crypto";

const prefix = "whsec_";
/** Fewest secret bytes (the specification's minimum, 192 bits). */
export const minSecretBytes = 24;
/** How far a receiver accepts a timestamp from its own clock. */
export const defaultToleranceS = 5 * 60;

/** The key bytes of a `whsec_…` secret; throws a readable Error for anything else. */
export function webhookSecretKey(secret: string): Buffer {
  if (!secret.startsWith(prefix)) throw new Error(`a webhook secret starts with "${prefix}" (then base64)`);
  const b64 = secret.slice(prefix.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new Error(`a webhook secret is "${prefix}" then base64`);
  const key = Buffer.from(b64, "base64");
  if (key.length < minSecretBytes) {
    throw new Error(`a webhook secret holds at least ${minSecretBytes} random bytes; this one has ${key.length}`);
  }
  return key;
}

/** The headers of one attempt (a type, not an interface: it is also a plain header record). */
export type WebhookHeaders = {
  readonly "webhook-id": string;
  readonly "webhook-timestamp": string;
  readonly "webhook-signature": string;
};

const sign = (key: Buffer, content: string) => createHmac("sha256", key).update(content).digest("base64");

/** Signs `body` of webhook `id` at `timestampS` with every one of `secrets`. */
export function signWebhook(id: string, timestampS: number, body: string, secrets: readonly string[]): WebhookHeaders {
  const timestamp = String(Math.floor(timestampS));
  const content = `${id}.${timestamp}.${body}`;
  const signatures = secrets.map((s) => `v1,${sign(webhookSecretKey(s), content)}`);
  return { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": signatures.join(" ") };
}

/** Why `verifyWebhook` refused a request. */
export class WebhookVerificationError extends Error {}

/** What a receiver passes to `verifyWebhook`. */
export interface VerifyInput {
  /** The request's headers (names in lower case, as node:http gives them), or a fetch Headers. */
  readonly headers: Headers | Readonly<Record<string, string | string[] | undefined>>;
  /** The raw body, exactly as received (not parsed and serialised again). */
  readonly body: string;
  /** The endpoint's secret(s); a signature by any one of them is accepted. */
  readonly secrets: readonly string[];
  /** The receiver's clock, ms since the epoch. Default: Date.now(). */
  readonly nowMs?: number;
  /** Default 300 (5 minutes). */
  readonly toleranceS?: number;
}

/**
 * Verifies a webhook request: a valid `v1` signature by one of `secrets` over its id, timestamp
 * and body, and a timestamp within the tolerance. Returns the webhook id (the idempotency key:
 * process each once) and the timestamp; throws WebhookVerificationError otherwise.
 */
export function verifyWebhook(input: VerifyInput): { id: string; timestampS: number } {
  const header = (name: string) => {
    const h = input.headers;
    const v = h instanceof Headers ? h.get(name) : h[name];
    return Array.isArray(v) ? v[0] : (v ?? undefined);
  };
  const id = header("webhook-id");
  const timestamp = header("webhook-timestamp");
  const signatures = header("webhook-signature");
  if (!id || !timestamp || !signatures) throw new WebhookVerificationError("missing webhook-* headers");
  if (!/^\d+$/.test(timestamp)) throw new WebhookVerificationError("malformed webhook-timestamp");
  const timestampS = Number(timestamp);
  const nowS = (input.nowMs ?? Date.now()) / 1000;
  if (Math.abs(nowS - timestampS) > (input.toleranceS ?? defaultToleranceS)) {
    throw new WebhookVerificationError("webhook-timestamp too old or too new (replayed, or clocks apart)");
  }
  const content = `${id}.${timestamp}.${input.body}`;
  const expected = input.secrets.map((s) => Buffer.from(sign(webhookSecretKey(s), content), "base64"));
  for (const entry of signatures.split(" ")) {
    const [version, value] = entry.split(",", 2);
    if (version !== "v1" || !value) continue;
    const got = Buffer.from(value, "base64");
    if (expected.some((e) => e.length === got.length && timingSafeEqual(e, got))) return { id, timestampS };
  }
  throw new WebhookVerificationError("no valid v1 signature by a known secret");
}
