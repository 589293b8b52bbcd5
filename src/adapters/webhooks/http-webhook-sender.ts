/**
 * Webhook attempts over HTTP (docs/spec.md §9 "Webhooks"): a POST of the event's canonical proto
 * JSON with the Standard Webhooks headers, signed at the attempt's time with every secret of the
 * endpoint, cut off after `timeoutMs`. Redirects are not followed (a 3xx is the receiver's
 * refusal: its URL should be updated). The answer's body is not read beyond its status.
 */
import type { Clock } from "../../app/ports/clock.ts";
import type { WebhookSender } from "../../app/ports/webhook-sender.ts";
import { callEventToJson } from "../../codec/call-event-mapping.ts";
import { signWebhook } from "../../codec/webhook-signature.ts";
import { type AttemptResult, classifyStatus } from "../../domain/webhooks.ts";

/** Creates the sender. */
export function createHttpWebhookSender(options: {
  clock: Clock;
  timeoutMs: number;
  userAgent: string;
}): WebhookSender {
  return {
    async send(endpoint, event, signal): Promise<AttemptResult> {
      const body = callEventToJson(event);
      const headers = signWebhook(event.eventId, options.clock.now() / 1000, body, endpoint.secrets);
      try {
        const res = await fetch(endpoint.url, {
          method: "POST",
          headers: { ...headers, "content-type": "application/json", "user-agent": options.userAgent },
          body,
          redirect: "manual",
          signal: AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMs)]),
        });
        await res.body?.cancel();
        return classifyStatus(res.status, retryAfterMs(res.headers.get("retry-after")));
      } catch (err) {
        const e = err as { name?: string; message?: string; cause?: { code?: string } };
        const error = e?.name === "TimeoutError" ? "timeout" : (e?.cause?.code ?? e?.message ?? String(err));
        return { result: "retry", error };
      }
    },
  };
}

/** Retry-After in delay-seconds, in ms; undefined when absent or not a number of seconds. */
function retryAfterMs(value: string | null): number | undefined {
  if (!value || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value) * 1000;
}
