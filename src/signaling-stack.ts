/**
 * Part of the composition root: the signaling facade of one node over its cluster stack,
 * with the configured per-user rate limits (docs/spec.md §4), and the SignalService handlers
 * over it. Shared by `createApp` and the in-process multi-node tests, so both drive the same wiring.
 */

import type { ServiceImpl } from "@connectrpc/connect";
import type { SignalService } from "../gen/calldrop/v1/signal_pb.js";
import { nodeDigests } from "./adapters/crypto/node-digests.ts";
import { buildIceServers, checkIceServersRequest } from "./app/ice-servers.ts";
import type { Clock } from "./app/ports/clock.ts";
import type { Metrics } from "./app/ports/metrics.ts";
import { createRateLimiter } from "./app/rate-limiter.ts";
import { createSignaling, type Signaling } from "./app/signaling.ts";
import type { ClusterStack } from "./cluster-stack.ts";
import type { Config } from "./config.ts";
import { createSignalService } from "./transport/signal-service.ts";

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

/**
 * The SignalService handlers over `signaling`, with the configured stream limits and ICE
 * servers (call-scoped credentials only for a participant of a call in `cluster`'s directory).
 */
export function createNodeSignalService(
  config: Config,
  cluster: Pick<ClusterStack, "directory">,
  signaling: Signaling,
  deps: { readonly clock: Clock; readonly metrics: Metrics },
): ServiceImpl<typeof SignalService> {
  const { clock } = deps;
  return createSignalService({
    signaling,
    clock,
    metrics: deps.metrics,
    maxQueuedEvents: config.sessions.maxQueuedEvents,
    maxConnectionAgeMs: config.server.maxConnectionAgeMs,
    iceServers: async (userId, callId) => {
      await checkIceServersRequest({ userId, callId }, cluster.directory);
      return buildIceServers(config.ice, { userId, callId }, clock.now(), nodeDigests);
    },
  });
}
