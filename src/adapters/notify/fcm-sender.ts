/**
 * Direct delivery to Firebase Cloud Messaging HTTP v1 (docs/spec.md §8 "Mobile push
 * contract"; body in README.md "FCM"): one `messages:send` per notification, a data-only
 * message (the app's FirebaseMessagingService decodes `proto` and drives ConnectionService)
 * with `android.priority` HIGH for rings and stops (they change what the phone shows, which
 * is what FCM allows high priority for) and NORMAL for missed calls, `ttl` the seconds left
 * (the ring deadline for a ring) and the call's `collapse_key`.
 */
import type { FcmTarget } from "../../app/ports/push-registry.ts";
import type { PushMessage, PushSender } from "../../app/ports/push-sender.ts";
import type { PushPayload } from "../../app/push-payload.ts";
import type { FcmAccessToken } from "./fcm-access-token.ts";
import { classifyError, classifyResponse, withTimeout } from "./http-outcome.ts";

/** Google's endpoint. */
export const fcmProductionUrl = "https://fcm.googleapis.com";

/** Options of the FCM sender (config: `notifications.fcm`). */
export interface FcmSenderOptions {
  /** https://fcm.googleapis.com, or a local peer in tests. */
  readonly baseUrl: string;
  /** The Firebase project id (the service account's project_id). */
  readonly projectId: string;
  readonly token: FcmAccessToken;
  /** Per-request timeout (default 10 000). */
  readonly timeoutMs?: number;
}

/** The `message` of a messages:send request. */
export function fcmMessage(m: PushMessage<FcmTarget>): object {
  const payload = JSON.parse(m.payload) as PushPayload;
  return {
    token: m.target.token,
    data: { proto: payload.proto },
    android: {
      priority: m.urgency === "high" ? "HIGH" : "NORMAL",
      ttl: `${m.ttlSeconds}s`,
      collapse_key: m.topic,
    },
  };
}

/** Creates the sender. */
export function createFcmSender(options: FcmSenderOptions): PushSender<FcmTarget> {
  const base = new URL(options.baseUrl);
  if (base.protocol !== "https:" && base.protocol !== "http:")
    throw new Error("notifications.fcm.baseUrl must be http(s)");
  const url = new URL(`v1/projects/${encodeURIComponent(options.projectId)}/messages:send`, base);
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    async send(m, signal) {
      let access: string;
      try {
        access = await options.token.get(signal);
      } catch (err) {
        return { result: "retry", error: `no FCM access token: ${(err as Error).message}` };
      }
      try {
        const res = await fetch(url, {
          method: "POST",
          headers: { authorization: `Bearer ${access}`, "content-type": "application/json" },
          body: JSON.stringify({ message: fcmMessage(m) }),
          signal: withTimeout(signal, timeoutMs),
        });
        const text = await res.text();
        if (res.ok) return { result: "sent" };
        const code = errorCode(text);
        const error = `FCM ${res.status} ${code ?? ""}`.trim();
        if (res.status === 404 || code === "UNREGISTERED") return { result: "gone", error };
        if (res.status === 401) {
          options.token.refused(access);
          return { result: "retry", error };
        }
        const outcome = classifyResponse(res.status, res.headers.get("retry-after"), []);
        return outcome.result === "sent" ? outcome : { ...outcome, error };
      } catch (err) {
        return classifyError(err);
      }
    },
  };
}

/** The FcmError errorCode of an error answer (UNREGISTERED, QUOTA_EXCEEDED, …). */
function errorCode(body: string): string | undefined {
  try {
    const details = (JSON.parse(body) as { error?: { details?: { errorCode?: unknown }[] } }).error?.details ?? [];
    const code = details.find((d) => typeof d.errorCode === "string")?.errorCode;
    return typeof code === "string" ? code : undefined;
  } catch {
    return undefined;
  }
}
