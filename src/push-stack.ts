/**
 * Part of the composition root: the push notification stack (docs/spec.md §8) —
 * registrations, durable outbox, Web Push, gateway, APNs and FCM senders — built from config
 * (a sender whose key or service-account file is unusable stops the boot with the reason).
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
import { createApnsProviderToken, readApnsKey } from "./adapters/notify/apns-provider-token.ts";
import { type ApnsSender, createApnsSender } from "./adapters/notify/apns-sender.ts";
import { createFcmAccessToken, readServiceAccount } from "./adapters/notify/fcm-access-token.ts";
import { createFcmSender } from "./adapters/notify/fcm-sender.ts";
import { createGatewaySender } from "./adapters/notify/gateway-sender.ts";
import { createSqliteNotificationOutbox } from "./adapters/notify/sqlite-notification-outbox.ts";
import { createSqlitePushRegistry } from "./adapters/notify/sqlite-push-registry.ts";
import { createWebPushSender } from "./adapters/notify/web-push-sender.ts";
import { createCassandraPushRegistry } from "./adapters/store/cassandra/cassandra-push-registry.ts";
import type { PushSenders } from "./app/notification-dispatcher.ts";
import type { Clock } from "./app/ports/clock.ts";
import type { FcmTarget, PushChannel } from "./app/ports/push-registry.ts";
import type { PushSender } from "./app/ports/push-sender.ts";
import { createPushDevices, type PushDevices } from "./app/push-devices.ts";
import { createPushNotifier, type PushNotifier } from "./app/push-notifier.ts";
import { pushProto } from "./codec/push-notification.ts";
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
  const apns = n.apns ? apnsSender(n.apns, n.sendTimeoutMs) : undefined;
  const senders: PushSenders = {
    ...(n.webPush ? { webpush: createWebPushSender({ vapid: n.webPush, timeoutMs: n.sendTimeoutMs }) } : {}),
    ...(n.gateway ? { gateway: createGatewaySender({ ...n.gateway, timeoutMs: n.sendTimeoutMs }) } : {}),
    ...(apns ? { apns } : {}),
    ...(n.fcm ? { fcm: fcmSender(n.fcm, n.sendTimeoutMs) } : {}),
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
      await apns?.close();
      await outbox.close();
      await registry.close();
    },
  };
}

type Notifications = Config["notifications"];

/** The direct APNs sender (docs/spec.md §8 "Mobile push contract"); throws at boot for an unusable key. */
function apnsSender(c: NonNullable<Notifications["apns"]>, timeoutMs: number): ApnsSender {
  const token = createApnsProviderToken({
    keyId: c.keyId,
    teamId: c.teamId,
    privateKeyPem: readApnsKey(c.privateKeyPath),
    refreshMs: c.tokenRefreshMs,
  });
  return createApnsSender({ baseUrl: c.baseUrl, bundleId: c.bundleId, token, timeoutMs });
}

/** The direct FCM HTTP v1 sender; throws at boot for an unusable service-account file. */
function fcmSender(c: NonNullable<Notifications["fcm"]>, timeoutMs: number): PushSender<FcmTarget> {
  const account = readServiceAccount(c.serviceAccountPath);
  const token = createFcmAccessToken({ account, timeoutMs });
  return createFcmSender({ baseUrl: c.baseUrl, projectId: account.project_id, token, timeoutMs });
}
