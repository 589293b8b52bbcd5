import type { Notification } from "../../domain/call-types.ts";
import type { PushTarget } from "./push-registry.ts";

/** One delivery attempt's input: a notification and the device's current target. */
export interface PushMessage<T extends PushTarget = PushTarget> {
  /** The outbox key; stable across retries (an idempotency key). */
  readonly key: string;
  readonly kind: Notification["kind"];
  readonly target: T;
  /** The JSON text for the device. */
  readonly payload: string;
  readonly urgency: "high" | "normal";
  /** Collapse key per call: stop-ringing replaces an undelivered ring. */
  readonly topic: string;
  /** Seconds the push service may hold the message (≥ 1). */
  readonly ttlSeconds: number;
}

/** What one attempt achieved. */
export type SendOutcome =
  /** Accepted by the push service / gateway (2xx). */
  | { readonly result: "sent" }
  /** Transient failure (5xx, 408, 429, timeout, network): try again later. */
  | { readonly result: "retry"; readonly error: string; readonly retryAfterMs?: number }
  /** The target no longer exists (404/410): unregister it. */
  | { readonly result: "gone"; readonly error: string }
  /** Permanent rejection (other 4xx): do not retry. */
  | { readonly result: "rejected"; readonly error: string };

/**
 * One push channel (Web Push, mobile gateway). `send` never throws for delivery
 * failures: it classifies them. It stops early when `signal` aborts.
 */
export interface PushSender<T extends PushTarget = PushTarget> {
  send(message: PushMessage<T>, signal: AbortSignal): Promise<SendOutcome>;
}
