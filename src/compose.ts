/**
 * The composition root (STYLE.md 6): every object of the service is built here,
 * from the config and optional port overrides (tests pass a manual clock, etc.).
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { type Logger, pino } from "pino";
import { collectDefaultMetrics, Registry } from "prom-client";
import { DeviceService } from "../gen/calldrop/v1/device_pb.js";
import { CallHistoryService } from "../gen/calldrop/v1/history_pb.js";
import { SignalService } from "../gen/calldrop/v1/signal_pb.js";
import { loadLocalDevKey } from "./adapters/auth/local-dev-key.ts";
import { createSystemClock } from "./adapters/clock/system-clock.ts";
import { createLogNotifier } from "./adapters/notify/log-notifier.ts";
import type { CallService } from "./app/call-service.ts";
import { buildIceServers } from "./app/ice-servers.ts";
import { createMetrics } from "./app/metrics.ts";
import { createNotificationMetrics } from "./app/notification-metrics.ts";
import type { CallStore, DeferredOutcomes } from "./app/ports/call-store.ts";
import type { Clock } from "./app/ports/clock.ts";
import type { Notifier } from "./app/ports/notifier.ts";
import { createRateLimiter } from "./app/rate-limiter.ts";
import { createSignaling } from "./app/signaling.ts";
import { type ClusterStack, createClusterStack } from "./cluster-stack.ts";
import type { Config } from "./config.ts";
import { DomainError } from "./domain/errors.ts";
import { createPushStack } from "./push-stack.ts";
import { createCallStore } from "./store-stack.ts";
import { createAuthenticator, createAuthInterceptor } from "./transport/auth.ts";
import { createDeviceService } from "./transport/device-service.ts";
import { addServices, type GrpcJsService } from "./transport/grpc-js-adapter.ts";
import { createHistoryService } from "./transport/history-service.ts";
import { createFallback, createHttpServer, createRouter } from "./transport/http-server.ts";
import { createRpcInterceptor } from "./transport/rpc-interceptor.ts";
import { createSignalService } from "./transport/signal-service.ts";
import { discardUnreadBody } from "./transport/unread-body.ts";

/** Ports a caller may supply instead of the configured adapters. */
export interface PortOverrides {
  readonly clock?: Clock;
  readonly store?: CallStore;
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
  /** Graceful stop: not ready, streams told to resume elsewhere, connections drained, store flushed. */
  stop(): Promise<void>;
}

const version = (
  JSON.parse(readFileSync(join(import.meta.dirname, "..", "package.json"), "utf8")) as { version: string }
).version;

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
  const metrics = createMetrics(registry, { version });
  const clock = ports.clock ?? createSystemClock();
  const store: CallStore & Partial<DeferredOutcomes> =
    ports.store ?? (await createCallStore(config, { clock, logger, registry }));
  const local = config.mode === "local";
  const auth = await createAuthenticator(
    {
      ...config.auth,
      hmacSecret: config.auth.hmacSecret ?? (local ? localDevKey(config) : undefined),
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
  cluster = await createClusterStack(config, { clock, store, notifier, metrics, logger, registry });
  const { hub, calls } = cluster;
  // Outcomes set when the outbox replays a queued finalize: this node set them, so it notifies.
  store.onOutcomeSet?.((call, end) => calls.outcomeSet(call, end));
  const signaling = createSignaling({
    hub,
    calls: cluster.routing,
    sessions: cluster.sessions,
    handoff: cluster.handoff,
    clock,
    metrics,
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
  const signalService = createSignalService({
    signaling,
    clock,
    metrics,
    maxQueuedEvents: config.sessions.maxQueuedEvents,
    maxConnectionAgeMs: config.server.maxConnectionAgeMs,
    iceServers: (userId, callId) => buildIceServers(config.ice, { userId, callId }, clock.now()),
  });
  const services: GrpcJsService[] = [
    { service: SignalService, impl: signalService },
    { service: CallHistoryService, impl: createHistoryService(store) },
    { service: DeviceService, impl: createDeviceService(push.devices) },
  ];
  const interceptors = [createRpcInterceptor(metrics, logger), createAuthInterceptor(auth)];
  const rpc = connectNodeAdapter({
    routes: (router) => {
      for (const { service, impl } of services) router.service(service, impl);
    },
    interceptors,
    readMaxBytes: config.server.maxMessageBytes,
    fallback: createFallback(config.server.staticDir),
  });
  const grpcServer =
    config.server.http2Engine === "grpc-js" ? createGrpcJsEngine(config, services, interceptors) : undefined;
  let ready = false;
  const http = createHttpServer(
    createRouter({
      rpc: discardUnreadBody(rpc),
      registry,
      auth,
      isReady: () => ready,
      devTokenTtlS: config.auth.devTokenTtlS,
      webPushPublicKey: config.notifications.webPush?.publicKey,
    }),
    logger,
    grpcServer,
  );

  return {
    logger,
    registry,
    calls,
    async start() {
      const address = await http.listen(config.server.port, config.server.host);
      push.notifier?.start();
      cluster?.start();
      ready = true;
      logger.info({ port: address.port, host: config.server.host, mode: config.mode }, "listening");
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
      await cluster?.close();
      await push.close();
      await store.close();
    },
  };
}

/** The grpc-js engine for HTTP/2 connections, with the same services and interceptors. */
function createGrpcJsEngine(config: Config, services: readonly GrpcJsService[], interceptors: readonly Interceptor[]) {
  const server = new grpc.Server({
    "grpc.max_receive_message_length": config.server.maxMessageBytes,
    "grpc.max_connection_age_ms": config.server.maxConnectionAgeMs,
    "grpc.max_connection_age_grace_ms": config.server.drainTimeoutMs,
    "grpc.keepalive_time_ms": 60_000,
    "grpc.keepalive_timeout_ms": 20_000,
  });
  addServices(server, services, interceptors);
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  return {
    inject: (socket: import("node:net").Socket) => injector.injectConnection(socket),
    drain: (graceMs: number) => injector.drain(graceMs),
  };
}
