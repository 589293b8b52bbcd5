/**
 * Direct delivery to Apple Push Notification service over HTTP/2 with token authentication
 * (docs/spec.md §8 "Mobile push contract"; headers and bodies in README.md "APNs"). One
 * HTTP/2 connection, reopened when it closes.
 *
 * - incoming_call: a VoIP push (`apns-push-type: voip`, topic `<bundle>.voip`, priority 10) to
 *   the PushKit token: iOS wakes the app, which must report the call to CallKit at once.
 * - stop_ringing: a background push (priority 5, as Apple requires for background) to the
 *   regular token: never a VoIP push, because a VoIP push the app cannot report as a new
 *   call gets it killed, and a stop may reach a device whose ring never arrived.
 * - missed_call: an alert push to the regular token, localized by the app (`loc-key`).
 *
 * `apns-expiration` is when the outbox row expires (the ring deadline for a ring), and
 * `apns-collapse-id` the call's topic, so a later push of a call replaces an earlier one
 * still stored at APNs.
 */
import http2 from "node:http2";
import type { ApnsTarget } from "../../app/ports/push-registry.ts";
import type { PushMessage, PushSender, SendOutcome } from "../../app/ports/push-sender.ts";
import type { PushPayload } from "../../app/push-payload.ts";
import type { ApnsProviderToken } from "./apns-provider-token.ts";
import { classifyError, classifyResponse, withTimeout } from "./http-outcome.ts";

/** Apple's production endpoint. */
export const apnsProductionUrl = "https://api.push.apple.com";

/** Options of the APNs sender (config: `notifications.apns`). */
export interface ApnsSenderOptions {
  /** https://api.push.apple.com, https://api.sandbox.push.apple.com, or a local peer in tests. */
  readonly baseUrl: string;
  /** The app's bundle id; VoIP pushes go to `<bundleId>.voip`. */
  readonly bundleId: string;
  readonly token: ApnsProviderToken;
  /** Per-request timeout (default 10 000). */
  readonly timeoutMs?: number;
  /** Extra TLS trust (tests: the local peer's self-signed certificate). */
  readonly ca?: string;
  /** Unix time in ms for apns-expiration (default Date.now). */
  readonly now?: () => number;
}

/** An APNs sender that also owns its connection. */
export interface ApnsSender extends PushSender<ApnsTarget> {
  /** Closes the HTTP/2 connection. */
  close(): Promise<void>;
}

/** The request one notification becomes: which token, the headers that differ, and the body. */
export function apnsRequest(
  m: PushMessage<ApnsTarget>,
  bundleId: string,
  nowMs: number,
): { token: string | undefined; headers: Record<string, string>; body: string } {
  const payload = JSON.parse(m.payload) as PushPayload;
  const common = {
    "apns-expiration": String(Math.floor(nowMs / 1000) + m.ttlSeconds),
    "apns-collapse-id": m.topic,
  };
  switch (payload.kind) {
    case "incoming_call":
      return {
        token: m.target.token,
        headers: { ...common, "apns-push-type": "voip", "apns-topic": `${bundleId}.voip`, "apns-priority": "10" },
        body: JSON.stringify({ proto: payload.proto }),
      };
    case "stop_ringing":
      return {
        token: m.target.alertToken,
        headers: { ...common, "apns-push-type": "background", "apns-topic": bundleId, "apns-priority": "5" },
        body: JSON.stringify({ aps: { "content-available": 1 }, proto: payload.proto }),
      };
    case "missed_call":
      return {
        token: m.target.alertToken,
        headers: {
          ...common,
          "apns-push-type": "alert",
          "apns-topic": bundleId,
          "apns-priority": m.urgency === "high" ? "10" : "5",
        },
        body: JSON.stringify({
          aps: {
            alert: { "loc-key": "CALLDROP_MISSED_CALL", "loc-args": [payload.callerUserId] },
            "thread-id": `call-${payload.callId}`,
            "mutable-content": 1,
          },
          proto: payload.proto,
        }),
      };
  }
}

/** APNs `reason`s after which the token will never work again (remove the device). */
const goneReasons = new Set(["BadDeviceToken", "Unregistered"]);

/** Creates the sender; the connection opens on the first push. */
export function createApnsSender(options: ApnsSenderOptions): ApnsSender {
  const base = new URL(options.baseUrl);
  if (base.protocol !== "https:") throw new Error("notifications.apns.baseUrl must be https");
  const timeoutMs = options.timeoutMs ?? 10_000;
  const now = options.now ?? Date.now;
  let session: http2.ClientHttp2Session | undefined;

  function connection(): http2.ClientHttp2Session {
    if (session && !session.closed && !session.destroyed) return session;
    const s = http2.connect(base, options.ca ? { ca: options.ca } : {});
    s.on("error", () => {}); // surfaced by the request that was using it
    s.on("goaway", () => s.close());
    s.unref(); // an idle connection does not keep the process alive
    session = s;
    return s;
  }

  function post(
    path: string,
    headers: Record<string, string>,
    body: string,
    signal: AbortSignal,
  ): Promise<{ status: number; body: string; retryAfter: string | null }> {
    return new Promise((resolve, reject) => {
      const req = connection().request(
        { ":method": "POST", ":path": path, "content-type": "application/json", ...headers },
        { signal },
      );
      let status = 0;
      let retryAfter: string | null = null;
      const chunks: Buffer[] = [];
      req.on("response", (h) => {
        status = Number(h[":status"]);
        retryAfter = typeof h["retry-after"] === "string" ? h["retry-after"] : null;
      });
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => resolve({ status, body: Buffer.concat(chunks).toString("utf8"), retryAfter }));
      req.on("error", (err) => reject(signal.aborted ? signal.reason : err));
      req.end(body);
    });
  }

  return {
    async send(m, signal): Promise<SendOutcome> {
      const { token, headers, body } = apnsRequest(m, options.bundleId, now());
      if (!token) return { result: "rejected", error: "the device registered no APNs alert token" };
      let jwt: string;
      try {
        jwt = await options.token.get();
      } catch (err) {
        return { result: "retry", error: `cannot sign the APNs provider token: ${(err as Error).message}` };
      }
      try {
        const res = await post(
          `/3/device/${token}`,
          { ...headers, authorization: `bearer ${jwt}` },
          body,
          withTimeout(signal, timeoutMs),
        );
        if (res.status === 200) return { result: "sent" };
        const reason = parseReason(res.body);
        const error = `APNs ${res.status} ${reason ?? ""}`.trim();
        if (goneReasons.has(reason ?? "") || res.status === 410) return { result: "gone", error };
        if (res.status === 403 && reason === "ExpiredProviderToken") {
          options.token.expired(jwt);
          return { result: "retry", error };
        }
        const outcome = classifyResponse(res.status, res.retryAfter, []);
        return outcome.result === "sent" ? outcome : { ...outcome, error };
      } catch (err) {
        return classifyError(err);
      }
    },
    async close() {
      const s = session;
      session = undefined;
      if (s && !s.closed) await new Promise<void>((resolve) => s.close(resolve));
    },
  };
}

function parseReason(body: string): string | undefined {
  try {
    const reason = (JSON.parse(body) as { reason?: unknown }).reason;
    return typeof reason === "string" ? reason : undefined;
  } catch {
    return undefined;
  }
}
