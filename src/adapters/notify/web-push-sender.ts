/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption
 * (RFC 8291), through the `web-push` library, which builds the encrypted body and
 * the headers; the request itself goes out with fetch (timeouts, abort on shutdown).
 */
import webpush from "web-push";
import type { WebPushTarget } from "../../app/ports/push-registry.ts";
import type { PushSender } from "../../app/ports/push-sender.ts";
import { classifyError, classifyResponse, withTimeout } from "./http-outcome.ts";

/** VAPID application server identity (config: `notifications.webPush`). */
export interface VapidConfig {
  /** `mailto:` or `https:` contact URL of the operator. */
  readonly subject: string;
  /** base64url uncompressed P-256 public key (what the web app passes as applicationServerKey). */
  readonly publicKey: string;
  /** base64url P-256 private key (a secret). */
  readonly privateKey: string;
}

/** Options of the Web Push sender. */
export interface WebPushSenderOptions {
  readonly vapid: VapidConfig;
  /** Per-request timeout (default 10 000). */
  readonly timeoutMs?: number;
}

/** Creates the Web Push sender; throws at once when the VAPID keys or subject are malformed. */
export function createWebPushSender(options: WebPushSenderOptions): PushSender<WebPushTarget> {
  const { vapid } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  // Validates subject and keys now rather than on the first push.
  webpush.getVapidHeaders("https://push.invalid", vapid.subject, vapid.publicKey, vapid.privateKey, "aes128gcm");
  return {
    async send(m, signal) {
      let details: ReturnType<typeof webpush.generateRequestDetails>;
      try {
        details = webpush.generateRequestDetails(
          { endpoint: m.target.endpoint, keys: { p256dh: m.target.p256dh, auth: m.target.auth } },
          m.payload,
          { vapidDetails: vapid, TTL: m.ttlSeconds, urgency: m.urgency, topic: m.topic, contentEncoding: "aes128gcm" },
        );
      } catch (err) {
        // A subscription whose keys cannot be used will never work: do not retry it.
        return { result: "rejected", error: `cannot encrypt for subscription: ${(err as Error).message}` };
      }
      const headers = Object.fromEntries(Object.entries(details.headers).map(([k, v]) => [k, String(v)]));
      delete headers["Content-Length"]; // fetch sets it from the body
      try {
        const res = await fetch(details.endpoint, {
          method: "POST",
          headers,
          body: new Uint8Array(details.body ?? []),
          signal: withTimeout(signal, timeoutMs),
        });
        await res.body?.cancel();
        return classifyResponse(res.status, res.headers.get("retry-after"), [404, 410]);
      } catch (err) {
        return classifyError(err);
      }
    },
  };
}
