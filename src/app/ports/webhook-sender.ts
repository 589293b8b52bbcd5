import type { AttemptResult, WebhookFilter } from "../../domain/webhooks.ts";
import type { LoggedCallEvent } from "./call-event-log.ts";

/** One configured webhook endpoint (config `webhooks.endpoints`). */
export interface WebhookEndpoint {
  /** Unique, label-safe: names the endpoint in state, logs and metrics. */
  readonly name: string;
  readonly url: string;
  /** Signing secrets (`whsec_…`): the current one, and during a rotation the other. */
  readonly secrets: readonly string[];
  readonly filter: WebhookFilter;
}

/**
 * Sends one attempt of a webhook (docs/spec.md §9 "Webhooks"): the event's JSON, signed for the
 * endpoint at the attempt's time. Never throws for a failed delivery: it classifies it.
 */
export interface WebhookSender {
  send(endpoint: WebhookEndpoint, event: LoggedCallEvent, signal: AbortSignal): Promise<AttemptResult>;
}
