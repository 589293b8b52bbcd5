/**
 * What the service measures, as a port (docs/style.md 1, 15): the app and transport count and time
 * through these interfaces; src/adapters/metrics/ implements them on Prometheus with an
 * injected registry (names, labels and help texts live there).
 */

import type { CallEventKind } from "../../domain/call-events.ts";
import type { Notification } from "../../domain/call-types.ts";
import type { CallRating } from "../../domain/rating.ts";
import type { AttemptResult } from "../../domain/webhooks.ts";
import type { PushChannel } from "./push-registry.ts";

/** Label values by label name. */
export type Labels<L extends string> = Record<L, string | number>;

/** A monotonic count, optionally split by labels. */
export interface Counter<L extends string = never> {
  inc(value?: number): void;
  inc(labels: Labels<L>, value?: number): void;
}

/** A value that goes up and down, optionally split by labels. */
export interface Gauge<L extends string = never> {
  inc(value?: number): void;
  inc(labels: Labels<L>, value?: number): void;
  dec(value?: number): void;
  dec(labels: Labels<L>, value?: number): void;
  set(value: number): void;
  set(labels: Labels<L>, value: number): void;
}

/** A distribution of seconds; `startTimer` measures elapsed time until its returned function is called. */
export interface Histogram<L extends string = never> {
  observe(value: number): void;
  observe(labels: Labels<L>, value: number): void;
  startTimer(labels?: Partial<Labels<L>>): (labels?: Partial<Labels<L>>) => number;
  zero(labels: Labels<L>): void;
}

type Rpc = "service" | "method";
type Store = "store" | "operation";

/** The service's metrics (RPCs, signaling, calls, sessions, stores, rate limits). */
export interface Metrics {
  readonly rpcStarted: Counter<Rpc>;
  readonly rpcHandled: Counter<Rpc | "code">;
  readonly rpcDuration: Histogram<Rpc>;
  readonly rpcInFlight: Gauge<Rpc>;
  readonly signalHop: Histogram;
  readonly callSetup: Histogram<"phase" | "path">;
  readonly callsStarted: Counter;
  readonly callsEnded: Counter<"outcome">;
  readonly callsActive: Gauge;
  readonly sessionsConnected: Gauge<"transport">;
  readonly mediaPath: Counter<"path">;
  readonly storeDuration: Histogram<Store>;
  readonly storeErrors: Counter<Store>;
  readonly rateLimited: Counter<"kind">;
}

/** Metrics of running calls across nodes. */
export interface ClusterMetrics {
  readonly callsAdopted: Counter<"phase">;
  readonly forwardDuration: Histogram<"kind">;
  readonly forwardRetries: Counter;
  readonly handoffs: Counter<"result">;
  readonly undeliverable: Counter;
}

/** How a notification for one device ended: accepted by the channel, rejected, or given up unsent. */
export type NotificationResult = "sent" | "failed" | "dropped";

/** Delivery channels plus the single-node logging notifier. */
export type NotificationChannel = PushChannel | "log";

/** Counters the notifiers and the dispatcher update. */
export interface NotificationMetrics {
  /** Counts one notification for one device reaching a final result. */
  count(kind: Notification["kind"], channel: NotificationChannel, result: NotificationResult): void;
  /** Sets the number of notifications waiting in the outbox. */
  setPending(n: number): void;
}

/** Counts post-call ratings (docs/spec.md §15). */
export interface RatingMetrics {
  /** Counts a participant's first rating of a call: its score and each of its reasons. */
  rated(rating: CallRating): void;
}

/** Counts the call events streamed to other backends (docs/spec.md §9 "Call events"). */
export interface CallEventMetrics {
  /** One more (+1) or one fewer (-1) open Subscribe stream of `group`. */
  subscribed(group: string, delta: 1 | -1): void;
  /** One event sent to a member of `group`, `lagMs` after its fact happened. */
  streamed(group: string, kind: CallEventKind, lagMs: number): void;
}

/** Counts webhook deliveries (docs/spec.md §9 "Webhooks"), by endpoint name (a closed set from config). */
export interface WebhookMetrics {
  /** One attempt at `endpoint`, with what it achieved. */
  attempted(endpoint: string, result: AttemptResult): void;
  /** An event delivered to `endpoint`, `lagMs` after its fact happened. */
  delivered(endpoint: string, lagMs: number): void;
  /** An event dead-lettered: after the last attempt failed (exhausted), or refused by the receiver (rejected). */
  deadLettered(endpoint: string, reason: "exhausted" | "rejected"): void;
  /** This node took (+1) or gave up (-1) delivering a partition of `endpoint`. */
  owned(endpoint: string, delta: 1 | -1): void;
}
