/**
 * Part of the composition root: the signaling facade of one node over its cluster stack,
 * with the configured per-user rate limits (docs/spec.md §4). Shared by `createApp` and the
 * in-process multi-node tests, so both drive the same wiring.
 */
import type { Metrics } from "./app/metrics.ts";
import type { Clock } from "./app/ports/clock.ts";
import { createRateLimiter } from "./app/rate-limiter.ts";
import { createSignaling, type Signaling } from "./app/signaling.ts";
import type { ClusterStack } from "./cluster-stack.ts";
import type { Config } from "./config.ts";

/** Builds the facade the transport calls. */
export function createNodeSignaling(
  config: Config,
  cluster: ClusterStack,
  deps: { readonly clock: Clock; readonly metrics: Metrics },
): Signaling {
  return createSignaling({
    hub: cluster.hub,
    calls: cluster.routing,
    sessions: cluster.sessions,
    handoff: cluster.handoff,
    clock: deps.clock,
    metrics: deps.metrics,
    commands: cluster.commands,
    callStartLimit: createRateLimiter({
      capacity: config.limits.callStartsBurst,
      perSecond: config.limits.callStartsPerSecond,
    }),
    messageLimit: createRateLimiter({
      capacity: config.limits.messagesBurst,
      perSecond: config.limits.messagesPerSecond,
    }),
  });
}
