/**
 * The mobile push gateway webhook: one signed JSON POST per notification to the
 * service that talks to FCM/APNs. Body and headers are specified in
 * src/adapters/notify/README.md ("Gateway webhook").
 */
import { createHmac } from "node:crypto";
import type { GatewayTarget } from "../../app/ports/push-registry.ts";
import type { PushSender } from "../../app/ports/push-sender.ts";
import { classifyError, classifyResponse, withTimeout } from "./http-outcome.ts";

/** Header carrying the unix time (seconds) the request was signed at. */
export const timestampHeader = "X-CallDrop-Timestamp";
/** Header carrying `v1=` + hex HMAC-SHA256(secret, `${timestamp}.${body}`). */
export const signatureHeader = "X-CallDrop-Signature";

/** Options of the gateway sender (config: `notifications.gateway`). */
export interface GatewaySenderOptions {
  /** The gateway's endpoint, http(s). */
  readonly url: string;
  /** Shared HMAC secret (a secret, from config/secrets). */
  readonly secret: string;
  /** Per-request timeout (default 10 000). */
  readonly timeoutMs?: number;
  /** Unix time in ms for the signature timestamp (default Date.now). */
  readonly now?: () => number;
}

/** The signature value for a body signed at `timestamp` (unix seconds). */
export function signGatewayBody(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** Creates the gateway sender; 410 means the token is gone, other 4xx are not retried. */
export function createGatewaySender(options: GatewaySenderOptions): PushSender<GatewayTarget> {
  const url = new URL(options.url);
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error("gateway url must be http(s)");
  if (options.secret.length < 16) throw new Error("gateway secret must be at least 16 characters");
  const timeoutMs = options.timeoutMs ?? 10_000;
  const now = options.now ?? Date.now;
  return {
    async send(m, signal) {
      const body = JSON.stringify({
        id: m.key,
        platform: m.target.platform,
        token: m.target.token,
        ...(m.target.alertToken ? { alertToken: m.target.alertToken } : {}),
        kind: m.kind,
        priority: m.urgency,
        collapseKey: m.topic,
        ttlSeconds: m.ttlSeconds,
        payload: JSON.parse(m.payload) as unknown,
      });
      const timestamp = String(Math.floor(now() / 1000));
      try {
        const res = await fetch(url, {
          method: "POST",
          headers: {
            "Content-Type": "application/json",
            "Idempotency-Key": m.key,
            [timestampHeader]: timestamp,
            [signatureHeader]: signGatewayBody(options.secret, timestamp, body),
          },
          body,
          signal: withTimeout(signal, timeoutMs),
        });
        await res.body?.cancel();
        return classifyResponse(res.status, res.headers.get("retry-after"), [410]);
      } catch (err) {
        return classifyError(err);
      }
    },
  };
}
