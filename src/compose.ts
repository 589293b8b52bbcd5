/**
 * The composition root (STYLE.md 6): every object of the service is built here,
 * from the config and optional port overrides (tests pass a manual clock, etc.).
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { type Logger, pino } from "pino";
import { collectDefaultMetrics, Registry } from "prom-client";
import { CallHistoryService } from "../gen/calldrop/v1/history_pb.js";
import { SignalService } from "../gen/calldrop/v1/signal_pb.js";
import { createSystemClock } from "./adapters/clock/system-clock.ts";
import { createLogNotifier } from "./adapters/notify/log-notifier.ts";
import { createSqliteCallStore } from "./adapters/store/sqlite-call-store.ts";
import { type CallService, createCallService } from "./app/call-service.ts";
import { createCommandCache } from "./app/command-cache.ts";
import { createMetrics } from "./app/metrics.ts";
import type { CallStore } from "./app/ports/call-store.ts";
import type { Clock } from "./app/ports/clock.ts";
import type { Notifier } from "./app/ports/notifier.ts";
import { createRateLimiter } from "./app/rate-limiter.ts";
import { createSessionHub } from "./app/session-hub.ts";
import { createSignaling } from "./app/signaling.ts";
import type { Config } from "./config.ts";
import { DomainError } from "./domain/errors.ts";
import { createAuthenticator, createAuthInterceptor } from "./transport/auth.ts";
import { createHistoryService } from "./transport/history-service.ts";
import { createFallback, createHttpServer, createRouter } from "./transport/http-server.ts";
import { createRpcInterceptor } from "./transport/rpc-interceptor.ts";
import { createSignalService } from "./transport/signal-service.ts";

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

/** Builds the service. */
export async function createApp(config: Config, ports: PortOverrides = {}): Promise<App> {
  const logger = ports.logger ?? pino({ level: config.log.level, base: { service: "calldrop" } });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "calldrop_" });
  const metrics = createMetrics(registry, { version });
  const clock = ports.clock ?? createSystemClock();
  const store = ports.store ?? createSqliteCallStore(config.store.sqlitePath);
  const notifier = ports.notifier ?? createLogNotifier(logger);
  const local = config.mode === "local";
  const auth = await createAuthenticator(
    {
      ...config.auth,
      hmacSecret: config.auth.hmacSecret ?? (local ? randomBytes(32).toString("base64url") : undefined),
    },
    local,
  );

  let calls: CallService | undefined;
  const hub = createSessionHub({
    clock,
    resumeGraceMs: config.sessions.resumeGraceMs,
    bufferSize: config.sessions.bufferSize,
    onDeviceLost: (device) => calls?.deviceLost(device),
    onDeviceOnline: (device) => calls?.deviceOnline(device),
  });
  calls = createCallService({
    clock,
    policy: config.calls,
    store,
    notifier,
    hub,
    metrics,
    logger,
    lingerMs: config.calls.lingerMs,
    maxSamplesPerCall: config.calls.maxSamplesPerCall,
  });
  const signaling = createSignaling({
    hub,
    calls,
    clock,
    metrics,
    commands: createCommandCache(config.sessions.commandTtlMs),
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
    iceServers: () => ({
      iceServers: config.ice.stunUrls.length > 0 ? [{ urls: config.ice.stunUrls, username: "", credential: "" }] : [],
      ttlSeconds: 0,
      relayOnly: false,
    }),
  });
  const rpc = connectNodeAdapter({
    routes: (router) => {
      router.service(SignalService, signalService);
      router.service(CallHistoryService, createHistoryService(store));
    },
    interceptors: [createRpcInterceptor(metrics, logger), createAuthInterceptor(auth)],
    readMaxBytes: config.server.maxMessageBytes,
    fallback: createFallback(config.server.staticDir),
  });
  let ready = false;
  const http = createHttpServer(
    createRouter({ rpc, registry, auth, isReady: () => ready, devTokenTtlS: config.auth.devTokenTtlS }),
    logger,
  );

  return {
    logger,
    registry,
    calls,
    async start() {
      const address = await http.listen(config.server.port, config.server.host);
      ready = true;
      logger.info({ port: address.port, host: config.server.host, mode: config.mode }, "listening");
      return { port: address.port };
    },
    async stop() {
      ready = false;
      hub.drain(new DomainError("unavailable", "server is shutting down; reconnect and resume"));
      await http.close(config.server.drainTimeoutMs);
      await calls?.flush();
      await store.close();
    },
  };
}
