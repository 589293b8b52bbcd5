/**
 * Part of the composition root: the webhook dispatcher (docs/spec.md §9 "Webhooks") with its
 * state where the call store is (the embedded file, or Cassandra), and its partition claims: all
 * partitions on a single node, a share claimed in etcd in a cluster. Nothing runs without
 * configured endpoints.
 */
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { createWebhookMetrics } from "./adapters/metrics/webhook-metrics.ts";
import { createCassandraWebhookState } from "./adapters/webhooks/cassandra-webhook-state.ts";
import { createEtcdPartitionClaims } from "./adapters/webhooks/etcd-partition-claims.ts";
import { createHttpWebhookSender } from "./adapters/webhooks/http-webhook-sender.ts";
import { createSqliteWebhookState } from "./adapters/webhooks/sqlite-webhook-state.ts";
import { createCallEventFeed } from "./app/call-event-feed.ts";
import type { CallEventLog } from "./app/ports/call-event-log.ts";
import type { Clock } from "./app/ports/clock.ts";
import type { PartitionClaims } from "./app/ports/partition-claims.ts";
import type { WebhookEndpoint } from "./app/ports/webhook-sender.ts";
import type { WebhookState } from "./app/ports/webhook-state.ts";
import { createWebhookDispatcher } from "./app/webhook-dispatcher.ts";
import type { Config } from "./config.ts";

/** The running part. */
export interface WebhookStack {
  start(): void;
  /** Stops delivering (retries keep their stored schedule) and releases the claims and the state. */
  close(): Promise<void>;
}

/** Collaborators built by the composition root. */
export interface WebhookStackDeps {
  readonly log: CallEventLog;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
  /** This process's node id (cluster-stack.ts), the name its claims are held under. */
  readonly nodeId: string;
  readonly version: string;
}

/** The configured endpoints as the app sees them. */
export function webhookEndpoints(config: Config): WebhookEndpoint[] {
  return config.webhooks.endpoints.map((e) => ({
    name: e.name,
    url: e.url,
    secrets: e.secrets,
    filter: { kinds: e.kinds, outcomes: e.outcomes },
  }));
}

/** The dispatcher's state for `config` (also used by the dead-letter CLI). */
export function createWebhookState(config: Config): WebhookState {
  const { kind, cassandra, sqlitePath } = config.store;
  return kind === "cassandra" && cassandra
    ? createCassandraWebhookState(cassandra)
    : createSqliteWebhookState(sqlitePath);
}

/** Builds the dispatcher for `config`. */
export function createWebhookStack(config: Config, deps: WebhookStackDeps): WebhookStack {
  const endpoints = webhookEndpoints(config);
  const metrics = createWebhookMetrics(
    deps.registry,
    endpoints.map((e) => e.name),
  );
  if (endpoints.length === 0) return { start() {}, async close() {} };
  const w = config.webhooks;
  const { clock, logger } = deps;
  const c = config.cluster;
  const state = createWebhookState(config);
  const claims: PartitionClaims = c
    ? createEtcdPartitionClaims({
        endpoints: c.etcdEndpoints,
        keyPrefix: `${c.keyPrefix.replace(/\/$/, "")}-webhooks/`,
        nodeId: deps.nodeId,
        leaseTtlS: c.leaseTtlS,
        webhookEndpoints: endpoints.map((e) => e.name),
        intervalMs: w.claimCheckIntervalMs,
        clock,
        logger,
      })
    : { owns: () => true, async close() {} };
  const dispatcher = createWebhookDispatcher({
    endpoints,
    // A consumer of the log like any other, its groups the endpoints; its counts are the webhook metrics.
    feed: createCallEventFeed({
      log: deps.log,
      clock,
      metrics: { subscribed() {}, streamed() {} },
      pollIntervalMs: w.pollIntervalMs,
      heartbeatIntervalMs: config.events.heartbeatIntervalMs,
      pageSize: config.events.pageSize,
    }),
    state,
    sender: createHttpWebhookSender({ clock, timeoutMs: w.timeoutMs, userAgent: `calldrop-webhooks/${deps.version}` }),
    claims,
    clock,
    metrics,
    logger,
    retry: { maxAttempts: w.maxAttempts, initialBackoffMs: w.initialBackoffMs, maxBackoffMs: w.maxBackoffMs },
    claimCheckIntervalMs: w.claimCheckIntervalMs,
    random: Math.random,
  });
  return {
    start: () => dispatcher.start(),
    async close() {
      await dispatcher.stop();
      await claims.close();
      await state.close();
    },
  };
}
