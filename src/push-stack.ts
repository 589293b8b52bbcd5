/**
 * Part of the composition root: the push notification stack (docs/spec.md §8) —
 * registrations, durable outbox, Web Push and gateway senders — built from config.
 * Without any configured channel the service falls back to the log notifier.
 * Registrations live where the call store lives: on Cassandra every node of a cluster sees
 * every device (the node running a call is rarely the one the callee registered through);
 * the outbox stays on the node's own file (it holds what this node has to send).
 */

import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { nodeDigests } from "./adapters/crypto/node-digests.ts";
import { createNodePushTargetChecks } from "./adapters/crypto/node-push-target-checks.ts";
import { createNotificationMetrics } from "./adapters/metrics/notification-metrics.ts";
import { createGatewaySender } from "./adapters/notify/gateway-sender.ts";
import { createSqliteNotificationOutbox } from "./adapters/notify/sqlite-notification-outbox.ts";
import { createSqlitePushRegistry } from "./adapters/notify/sqlite-push-registry.ts";
import { createWebPushSender } from "./adapters/notify/web-push-sender.ts";
import { createCassandraPushRegistry } from "./adapters/store/cassandra/cassandra-push-registry.ts";
import type { Clock } from "./app/ports/clock.ts";
import { pushProto } from "./codec/push-notification.ts";
import type { PushChannel } from "./app/ports/push-registry.ts";
import { createPushDevices, type PushDevices } from "./app/push-devices.ts";
import { createPushNotifier, type PushNotifier } from "./app/push-notifier.ts";
import type { Config } from "./config.ts";

/** The built stack. */
export interface PushStack {
  /** Undefined when no push channel is configured. */
  readonly notifier: PushNotifier | undefined;
  readonly devices: PushDevices;
  close(): Promise<void>;
}

/** Builds the push stack: registrations in the configured store, the outbox in the node's file. */
export function createPushStack(
  config: Config,
  deps: {
    clock: Clock;
    logger: Logger;
    registry: Registry;
    isLive: (userId: string, deviceId: string) => boolean | Promise<boolean>;
  },
): PushStack {
  const n = config.notifications;
  const senders = {
    ...(n.webPush ? { webpush: createWebPushSender({ vapid: n.webPush, timeoutMs: n.sendTimeoutMs }) } : {}),
    ...(n.gateway ? { gateway: createGatewaySender({ ...n.gateway, timeoutMs: n.sendTimeoutMs }) } : {}),
  };
  const { kind, cassandra } = config.store;
  const registry =
    kind === "cassandra" && cassandra
      ? createCassandraPushRegistry(cassandra)
      : createSqlitePushRegistry({ path: config.store.sqlitePath });
  const outbox = createSqliteNotificationOutbox({ path: config.store.sqlitePath });
  const channels = new Set(Object.keys(senders) as PushChannel[]);
  const notifier =
    channels.size > 0
      ? createPushNotifier({
          registry,
          outbox,
          senders,
          isLive: deps.isLive,
          clock: deps.clock,
          digests: nodeDigests,
          proto: pushProto,
          metrics: createNotificationMetrics(deps.registry),
          logger: deps.logger,
          stopRingingTtlMs: n.stopRingingTtlMs,
          missedCallTtlMs: n.missedCallTtlMs,
        })
      : undefined;
  const devices = createPushDevices({
    registry,
    clock: deps.clock,
    checks: createNodePushTargetChecks(),
    channels,
    maxDevicesPerUser: n.maxDevicesPerUser,
    allowInsecureEndpoints: config.mode === "local" && n.allowInsecureEndpoints,
  });
  return {
    notifier,
    devices,
    async close() {
      await notifier?.close();
      await outbox.close();
      await registry.close();
    },
  };
}
