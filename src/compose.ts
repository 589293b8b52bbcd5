/**
 * The composition root (docs/style.md 6): every object of the service is built here,
 * from the config and optional port overrides (tests pass a manual clock, etc.).
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { type Logger, pino } from "pino";
import { collectDefaultMetrics, Registry } from "prom-client";
import { CallEventsService } from "../gen/calldrop/internal/v1/events_pb.js";
import { ServiceHistoryService } from "../gen/calldrop/internal/v1/history_pb.js";
import { BlockService } from "../gen/calldrop/v1/block_pb.js";
import { DeviceService } from "../gen/calldrop/v1/device_pb.js";
import { CallHistoryService } from "../gen/calldrop/v1/history_pb.js";
import { CallSettingsService } from "../gen/calldrop/v1/settings_pb.js";
import { SignalService } from "../gen/calldrop/v1/signal_pb.js";
import { loadLocalDevKey } from "./adapters/auth/local-dev-key.ts";
import { createSystemClock } from "./adapters/clock/system-clock.ts";
import { createCallEventMetrics } from "./adapters/metrics/call-event-metrics.ts";
import { createNotificationMetrics } from "./adapters/metrics/notification-metrics.ts";
import { createRatingMetrics } from "./adapters/metrics/rating-metrics.ts";
import { createMetrics } from "./adapters/metrics/service-metrics.ts";
import { createLogNotifier } from "./adapters/notify/log-notifier.ts";
import { createBlocking } from "./app/blocking.ts";
import { createCallEventFeed } from "./app/call-event-feed.ts";
import { createCallRatings } from "./app/call-rating.ts";
import type { CallService } from "./app/call-service.ts";
import { createCallSettings } from "./app/call-settings.ts";
import type { CallStore, DeferredOutcomes } from "./app/ports/call-store.ts";
import type { Clock } from "./app/ports/clock.ts";
import type { Notifier } from "./app/ports/notifier.ts";
import { type ClusterStack, createClusterStack } from "./cluster-stack.ts";
import type { Config } from "./config.ts";
import { DomainError } from "./domain/errors.ts";
import { createPushStack } from "./push-stack.ts";
import { createNodeSignaling, createNodeSignalService } from "./signaling-stack.ts";
import {
  createBlockList,
  createCallSettingsStore,
  createCallStore,
  type Drainable,
  drainOutbox,
  OUTBOX_DRAIN_FLOOR_MS,
} from "./store-stack.ts";
import { createAuthenticator, createAuthInterceptor } from "./transport/auth.ts";
import { createBlockService } from "./transport/block-service.ts";
import { createCallEventsService } from "./transport/call-events-service.ts";
import { createCallSettingsService } from "./transport/call-settings-service.ts";
import { createConnectNodeHandler } from "./transport/connect-node-handler.ts";
import { createDeviceService } from "./transport/device-service.ts";
import type { GrpcJsService } from "./transport/grpc-js-adapter.ts";
import { createGrpcJsEngine } from "./transport/grpc-js-engine.ts";
import { createHistoryService } from "./transport/history-service.ts";
import { createFallback, createHttpServer, createRouter } from "./transport/http-server.ts";
import { createRpcInterceptor } from "./transport/rpc-interceptor.ts";
import { createServiceHistoryService } from "./transport/service-history-service.ts";
import { discardUnreadBody } from "./transport/unread-body.ts";
import { createWebhookStack } from "./webhook-stack.ts";

/** Ports a caller may supply instead of the configured adapters. */
export interface PortOverrides {
  readonly clock?: Clock;
  readonly store?: CallStore & Partial<Drainable>;
  readonly notifier?: Notifier;
  readonly logger?: Logger;
}

/** A built, not yet listening, service. */
export interface App {
  readonly logger: Logger;
  readonly registry: Registry;
  readonly calls: CallService;
  /** Listens on the configured host/port (0 = any free port); resolves with the port. */
  start(): Promise<{ port: number }>;
  /**
   * Graceful stop: not ready, streams told to resume elsewhere, connections drained, the outbox
   * drained (bounded: store-stack.ts drainOutbox), store flushed.
   */
  stop(): Promise<void>;
}

/** The service's version, from package.json (read when the app is built, not at import). */
function packageVersion(): string {
  const path = join(import.meta.dirname, "..", "package.json");
  return (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version;
}

/** Local mode's signing key: in the data directory (beside the embedded store), or per process for an in-memory store. */
function localDevKey(config: Config): string {
  const { sqlitePath } = config.store;
  if (sqlitePath === ":memory:") return randomBytes(32).toString("base64url");
  return loadLocalDevKey(join(dirname(sqlitePath), "local-dev-key"));
}

/** Builds the service. */
export async function createApp(config: Config, ports: PortOverrides = {}): Promise<App> {
  const logger = ports.logger ?? pino({ level: config.log.level, base: { service: "calldrop" } });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "calldrop_" });
  const version = packageVersion();
  const metrics = createMetrics(registry, { version });
  const clock = ports.clock ?? createSystemClock();
  const store: CallStore & Partial<DeferredOutcomes> & Partial<Drainable> =
    ports.store ?? (await createCallStore(config, { clock, logger, registry }));
  const local = config.mode === "local";
  const auth = await createAuthenticator(
    {
      ...config.auth,
      hmacSecret: config.auth.hmacSecret ?? (local ? localDevKey(config) : undefined),
      logger,
    },
    local,
  );

  let cluster: ClusterStack | undefined;
  const push = createPushStack(config, {
    clock,
    logger,
    registry,
    isLive: (u, d) => cluster?.isLive(u, d) ?? false,
  });
  const notifier =
    ports.notifier ?? push.notifier ?? createLogNotifier(logger, 1000, createNotificationMetrics(registry));
  const blockList = createBlockList(config);
  const blocking = createBlocking({
    list: blockList,
    clock,
    logger,
    maxBlockedPerUser: config.calls.maxBlockedPerUser,
  });
  const settingsStore = createCallSettingsStore(config);
  const settings = createCallSettings({ store: settingsStore, logger });
  cluster = await createClusterStack(config, {
    clock,
    store,
    notifier,
    blocking,
    settings,
    metrics,
    logger,
    registry,
  });
  const { hub, calls } = cluster;
  // Outcomes set when the outbox replays a queued finalize: this node set them, so it notifies.
  store.onOutcomeSet?.((call, end) => calls.outcomeSet(call, end));
  const webhooks = createWebhookStack(config, { log: store, clock, logger, registry, nodeId: cluster.nodeId, version });
  const signaling = createNodeSignaling(config, cluster, { clock, metrics });
  const signalService = createNodeSignalService(config, cluster, signaling, { clock, metrics });
  const ratings = createCallRatings({
    store,
    clock,
    metrics: createRatingMetrics(registry),
    sampleRate: config.calls.ratingSampleRate,
  });
  const services: GrpcJsService[] = [
    { service: SignalService, impl: signalService },
    { service: CallHistoryService, impl: createHistoryService(store, ratings) },
    { service: DeviceService, impl: createDeviceService(push.devices) },
    { service: BlockService, impl: createBlockService(blocking) },
    { service: CallSettingsService, impl: createCallSettingsService(settings) },
    { service: ServiceHistoryService, impl: createServiceHistoryService(store, ratings, logger) },
    {
      service: CallEventsService,
      impl: createCallEventsService({
        feed: createCallEventFeed({
          log: store,
          clock,
          metrics: createCallEventMetrics(registry, config.events.consumerGroups),
          pollIntervalMs: config.events.pollIntervalMs,
          heartbeatIntervalMs: config.events.heartbeatIntervalMs,
          pageSize: config.events.pageSize,
        }),
        clock,
        groups: config.events.consumerGroups,
        maxConnectionAgeMs: config.server.maxConnectionAgeMs,
        logger,
      }),
    },
  ];
  const interceptors = [createRpcInterceptor(metrics, logger), createAuthInterceptor(auth)];
  const rpc = createConnectNodeHandler(
    {
      routes: (router) => {
        for (const { service, impl } of services) router.service(service, impl);
      },
      interceptors,
      readMaxBytes: config.server.maxMessageBytes,
      fallback: createFallback(config.server.staticDir),
    },
    metrics,
    logger,
  );
  let ready = false;
  const router = createRouter({
    rpc: discardUnreadBody(rpc),
    registry,
    auth,
    isReady: () => ready,
    devTokenTtlS: config.auth.devTokenTtlS,
    webPushPublicKey: config.notifications.webPush?.publicKey,
    logger,
    corsAllowedOrigins: config.server.corsAllowedOrigins,
  });
  const http = createHttpServer(
    router,
    logger,
    config.server.http2Engine === "grpc-js"
      ? createGrpcJsEngine(config.server, services, interceptors, router, { metrics, logger })
      : undefined,
  );

  return {
    logger,
    registry,
    calls,
    async start() {
      const address = await http.listen(config.server.port, config.server.host);
      push.notifier?.start();
      cluster?.start();
      webhooks.start();
      ready = true;
      const { host, http2Engine } = config.server;
      logger.info({ port: address.port, host, mode: config.mode, http2Engine }, "listening");
      return { port: address.port };
    },
    async stop() {
      ready = false;
      await cluster?.drain(); // first: nothing new is routed to this node's sessions
      hub.drain(new DomainError("unavailable", "server is shutting down; reconnect and resume"));
      const drainedBy = Date.now() + config.server.drainTimeoutMs;
      await http.close(config.server.drainTimeoutMs);
      await cluster?.handedOver(drainedBy); // clients resuming on other nodes fetch their sessions from here
      await calls.flush();
      await webhooks.close();
      // Before leaving the cluster, so outcomes the replay sets are still notified from here.
      await drainOutbox(store, Math.max(drainedBy, Date.now() + OUTBOX_DRAIN_FLOOR_MS), logger);
      await cluster?.close();
      await push.close();
      await blockList.close();
      await settingsStore.close();
      await store.close();
    },
  };
}
