/**
 * Builds the push notification stack of the tests: embedded sqlite registry and
 * outbox on one file, the real Web Push and gateway senders, a manual clock (so
 * retries and expiry are driven by `clock.advance` + `drain`, never by sleeping),
 * and a fresh metrics registry. `reopen()` builds a second stack on the same file,
 * as a restarted server would.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import pino from "pino";
import { Registry } from "prom-client";
import webpush from "web-push";
import { createManualClock, type ManualClock } from "../../src/adapters/clock/manual-clock.ts";
import { nodeDigests } from "../../src/adapters/crypto/node-digests.ts";
import { createNotificationMetrics } from "../../src/adapters/metrics/notification-metrics.ts";
import { createGatewaySender } from "../../src/adapters/notify/gateway-sender.ts";
import { createSqliteNotificationOutbox } from "../../src/adapters/notify/sqlite-notification-outbox.ts";
import { createSqlitePushRegistry } from "../../src/adapters/notify/sqlite-push-registry.ts";
import { createWebPushSender, type VapidConfig } from "../../src/adapters/notify/web-push-sender.ts";
import type { DispatcherOptions, PushSenders } from "../../src/app/notification-dispatcher.ts";
import type { Clock } from "../../src/app/ports/clock.ts";
import type { NotificationOutbox } from "../../src/app/ports/notification-outbox.ts";
import type { PushRegistry } from "../../src/app/ports/push-registry.ts";
import { createPushNotifier, type PushNotifier } from "../../src/app/push-notifier.ts";
import { pushProto } from "../../src/codec/push-notification.ts";
import { type LocalGateway, startLocalGateway } from "./local-gateway.ts";
import { type LocalPushService, startLocalPushService } from "./local-push-service.ts";

/** A gateway secret for tests only. */
export const gatewaySecret = "test-gateway-secret-0123456789";

/** A fresh VAPID identity. */
export function testVapid(): VapidConfig {
  const keys = webpush.generateVAPIDKeys();
  return { subject: "mailto:ops@calldrop.test", publicKey: keys.publicKey, privateKey: keys.privateKey };
}

/** One server's notification stack. */
export interface Stack {
  readonly notifier: PushNotifier;
  readonly registry: PushRegistry;
  readonly outbox: NotificationOutbox;
  readonly metrics: Registry;
  close(): Promise<void>;
}

/** Options of a test stack. */
export interface StackOptions {
  readonly vapid?: VapidConfig;
  readonly gatewayUrl?: string;
  readonly live?: ReadonlySet<string>;
  /** Overrides `live`: the session hub's check in scenario tests. */
  readonly isLive?: (userId: string, deviceId: string) => boolean | Promise<boolean>;
  readonly timeoutMs?: number;
  readonly dispatch?: DispatcherOptions;
  /** Defaults to the harness's manual clock. */
  readonly clock?: Clock;
  /** More channels (the direct APNs and FCM senders). */
  readonly senders?: PushSenders;
}

/** A temp directory with a sqlite file, a manual clock and stack builders. */
export interface Harness {
  readonly clock: ManualClock;
  readonly path: string;
  open(options: StackOptions): Stack;
  dispose(): void;
}

/** Creates a harness; call `dispose()` in `after`. */
export function createHarness(): Harness {
  const dir = mkdtempSync(join(tmpdir(), "calldrop-notify-"));
  const path = join(dir, "notify.db");
  const clock = createManualClock(Date.now());
  return {
    clock,
    path,
    open(options) {
      const registry = createSqlitePushRegistry({ path });
      const outbox = createSqliteNotificationOutbox({ path });
      const metrics = new Registry();
      const timeoutMs = options.timeoutMs ?? 2_000;
      const senders: PushSenders = {
        ...(options.vapid ? { webpush: createWebPushSender({ vapid: options.vapid, timeoutMs }) } : {}),
        ...(options.gatewayUrl
          ? { gateway: createGatewaySender({ url: options.gatewayUrl, secret: gatewaySecret, timeoutMs }) }
          : {}),
        ...options.senders,
      };
      const notifier = createPushNotifier({
        registry,
        outbox,
        senders,
        isLive: options.isLive ?? ((userId, deviceId) => options.live?.has(`${userId}/${deviceId}`) ?? false),
        clock: options.clock ?? clock,
        digests: nodeDigests,
        proto: pushProto,
        metrics: createNotificationMetrics(metrics),
        logger: pino({ level: "silent" }),
        dispatch: { random: () => 1, initialBackoffMs: 1_000, ...options.dispatch },
      });
      return {
        notifier,
        registry,
        outbox,
        metrics,
        async close() {
          await notifier.close();
          await outbox.close();
          await registry.close();
        },
      };
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The value of calldrop_notifications_total for one label set. */
export async function notificationCount(
  metrics: Registry,
  kind: string,
  channel: string,
  result: string,
): Promise<number> {
  const metric = await metrics.getSingleMetric("calldrop_notifications_total")?.get();
  const v = metric?.values.find(
    (x) => x.labels.kind === kind && x.labels.channel === channel && x.labels.result === result,
  );
  if (!v) throw new Error(`no series for ${kind}/${channel}/${result}`);
  return v.value;
}

/** The local protocol peers (push service, gateway) of a test file, started before its tests and stopped after, with the harness. */
export function usePushPeers(h: Harness, vapid: VapidConfig): { gw: LocalGateway; push: LocalPushService } {
  const peers = {} as { gw: LocalGateway; push: LocalPushService };
  before(async () => {
    peers.gw = await startLocalGateway(gatewaySecret);
    peers.push = await startLocalPushService(vapid.publicKey);
  });
  after(async () => {
    await peers.gw.close();
    await peers.push.close();
    h.dispose();
  });
  return peers;
}
