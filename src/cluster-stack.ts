/**
 * Part of the composition root: how this node holds sessions and runs calls, alone or
 * as one node of a cluster (docs/spec.md §10), chosen by `config.cluster`.
 * - Single node: in-process presence, no peers.
 * - Cluster: etcd presence (one lease per node) and the node relay (authenticated
 *   grpc-js streams) on the internal port.
 * The call directory lives in etcd in a cluster (or on the embedded store's file, for nodes
 * on one machine), and on the store's file for a single node.
 * Both run the same router, call routing, session handoff and takeover code, built
 * top-down: what a part raises for parts built after it goes through one typed node-event
 * stream (app/node-events.ts), attached once everything exists.
 */

import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { nodeDigests } from "./adapters/crypto/node-digests.ts";
import { createSqliteCallDirectory } from "./adapters/directory/sqlite-call-directory.ts";
import { createRandomIds } from "./adapters/ids/random-ids.ts";
import { createClusterMetrics } from "./adapters/metrics/cluster-metrics.ts";
import { createInProcessPeers, type InProcessBus } from "./adapters/peers/in-process-peers.ts";
import { createInProcessPresence, type InProcessRegistry } from "./adapters/presence/in-process-presence.ts";
import type { Blocking } from "./app/blocking.ts";
import { type CallRouting, createCallRouting } from "./app/call-routing.ts";
import { type CallService, createCallService } from "./app/call-service.ts";
import type { CallSettings } from "./app/call-settings.ts";
import { createCallTakeover } from "./app/call-takeover.ts";
import { type CommandCache, createCommandCache } from "./app/command-cache.ts";
import { createNodeEventStream } from "./app/node-events.ts";
import type { CallDirectory } from "./app/ports/call-directory.ts";
import type { CallStore } from "./app/ports/call-store.ts";
import type { Clock } from "./app/ports/clock.ts";
import type { Metrics } from "./app/ports/metrics.ts";
import type { Notifier } from "./app/ports/notifier.ts";
import type { Peers } from "./app/ports/peers.ts";
import type { Presence } from "./app/ports/presence.ts";
import { createRouter } from "./app/router.ts";
import { createSessionHandoff, type SessionHandoff } from "./app/session-handoff.ts";
import { createSessionHub, type SessionHub } from "./app/session-hub.ts";
import { createSessionPresence, type SessionPresence } from "./app/session-presence.ts";
import type { Config } from "./config.ts";

/** What the rest of the composition uses. */
export interface ClusterStack {
  /** Unique per process incarnation: `<node name>-<random>`. */
  readonly nodeId: string;
  readonly hub: SessionHub;
  /** The calls this node runs. */
  readonly calls: CallService;
  /** Runs call commands wherever the call lives. */
  readonly routing: CallRouting;
  readonly sessions: SessionPresence;
  readonly handoff: SessionHandoff;
  /** Idempotency of commands, shared by local and forwarded ones. */
  readonly commands: CommandCache;
  /** The cluster-wide directory of calls in progress (who is in which call). */
  readonly directory: CallDirectory;
  /** Whether a device has an attached stream here, or a session on another node (no ring push needed). */
  isLive(userId: string, deviceId: string): Promise<boolean>;
  /** Starts the overdue sweep. */
  start(): void;
  /** First step of a graceful stop: withdraws this node's sessions so nothing new is routed here. */
  drain(): Promise<void>;
  /** Waits (at most until `untilMs`) for the drained sessions to be resumed on other nodes. */
  handedOver(untilMs: number): Promise<void>;
  /** Leaves the cluster (other nodes take over this node's calls) and releases everything. */
  close(): Promise<void>;
}

/** Collaborators built by the composition root. */
export interface ClusterStackDeps {
  readonly clock: Clock;
  readonly store: CallStore;
  readonly notifier: Notifier;
  /** Whether a callee blocked a caller, asked at every call start. */
  readonly blocking: Pick<Blocking, "blocks">;
  /** Whether a callee in a call takes waiting calls, asked when a start finds them in one. */
  readonly settings: Pick<CallSettings, "takesWaitingCalls">;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly registry: Registry;
  /** Instead of the call directory on the embedded store (tests). */
  readonly directory?: CallDirectory;
  /**
   * Without `config.cluster`: presence and peers shared with the other nodes of this process
   * (multi-node tests without etcd or a network) instead of private ones.
   */
  readonly inProcess?: { readonly registry: InProcessRegistry; readonly bus: InProcessBus };
}

/** Builds the stack for `config` (joins the cluster when `config.cluster` is set). */
export async function createClusterStack(config: Config, deps: ClusterStackDeps): Promise<ClusterStack> {
  const { clock, store, logger, registry } = deps;
  const c = config.cluster;
  const nodeId = `${c?.nodeName ?? hostname()}-${randomBytes(4).toString("hex")}`;
  const clusterMetrics = createClusterMetrics(registry);
  const { presence, peers } = c
    ? await joinCluster(c, nodeId, deps)
    : {
        presence: createInProcessPresence({ nodeId, address: "in-process", registry: deps.inProcess?.registry }),
        peers: createInProcessPeers(nodeId, deps.inProcess?.bus),
      };
  const directory = deps.directory ?? (await createDirectory(config));

  const events = createNodeEventStream();
  const ids = createRandomIds();
  const hub = createSessionHub({
    clock,
    ids,
    nodeId,
    resumeGraceMs: config.sessions.resumeGraceMs,
    bufferSize: config.sessions.bufferSize,
    maxQueuedEvents: config.sessions.maxQueuedEvents,
    onDeviceLost: events.deviceLost,
    onDeviceOnline: events.deviceOnline,
  });
  const router = createRouter({
    nodeId,
    hub,
    presence,
    peers,
    clock,
    logger,
    movedTtlMs: config.sessions.resumeGraceMs,
    // Below a stream's queue bound: when a stalled node catches up, its whole backlog may be for one
    // device and arrives at once; it must fit that device's stream queue, or a client that reads
    // fine is cut off as a slow reader (test/scenarios/backpressure.test.ts).
    congestedBacklog: Math.min(5_000, Math.floor(config.sessions.maxQueuedEvents / 2)),
    onUndeliverable: events.undeliverable,
    onCallEvent: events.callEvent,
  });
  const calls = createCallService({
    nodeId,
    clock,
    ids,
    policy: config.calls,
    store,
    directory,
    notifier: deps.notifier,
    blocking: deps.blocking,
    settings: deps.settings,
    delivery: router,
    metrics: deps.metrics,
    clusterMetrics,
    logger,
    lingerMs: config.calls.lingerMs,
    maxSamplesPerCall: config.calls.maxSamplesPerCall,
    sampleRollup: {
      windowMs: config.calls.sampleWindowMs,
      maxSamplesPerWindow: config.calls.maxSamplesPerWindow,
    },
    absentGraceMs: config.sessions.resumeGraceMs,
    maxQueuedPerDevice: config.sessions.bufferSize,
  });
  const commands = createCommandCache(config.sessions.commandTtlMs);
  const routing = createCallRouting({
    nodeId,
    calls,
    directory,
    presence,
    peers,
    commands,
    clock,
    logger,
    metrics: clusterMetrics,
    requestTimeoutMs: c?.forwardTimeoutMs ?? 10_000,
  });
  const announced = createSessionPresence({
    nodeId,
    presence,
    peers,
    routing,
    clock,
    logger,
    maxAnnounceWaitMs: 2_000,
  });
  const handoff = createSessionHandoff({
    nodeId,
    hub,
    presence,
    peers,
    clock,
    logger,
    metrics: clusterMetrics,
    timeoutMs: c?.handoffTimeoutMs ?? 3_000,
    onMoved: (device, sessionId, to) => {
      router.moved(device, to);
      announced.gone({ id: sessionId, ...device });
    },
  });
  const takeover = createCallTakeover({
    nodeId,
    presence,
    directory,
    store,
    calls,
    peers,
    clock,
    digests: nodeDigests,
    logger,
    ...config.takeover,
  });
  const inbound = routing;
  events.attach({
    deviceLost: (session) => announced.lost(session),
    deviceOnline: (session) => announced.arrived(session, "online"),
    undeliverable(to, body) {
      clusterMetrics.undeliverable.inc();
      if ("callId" in body) calls.undeliverable(to, body);
    },
    callEvent: (callId, origin) => routing.learn(callId, origin),
  });

  peers.onMessage((from, m) => {
    switch (m.kind) {
      case "deliver":
        return router.receive(from, m);
      case "command":
      case "notice":
      case "reply":
        return inbound.receive(from, m);
      case "handoff":
      case "handoff_reply":
        return handoff.receive(from, m);
      case "replaced":
        hub.forget(m.userId, m.deviceId, m.sessionId);
        return announced.gone({ id: m.sessionId, userId: m.userId, deviceId: m.deviceId });
    }
  });
  // A node that refuses connections is dead before its lease says so: resumes aimed at it fail at
  // once, and its ringing calls ring out at their deadline, not a lease TTL later.
  peers.onUnreachable((dead) => {
    handoff.unreachable(dead);
    takeover.nodeUnreachable(dead);
  });
  // Cut off from etcd past the TTL: stop running calls the others took over (at once, not at the next scan).
  const stopFencing = presence.onLeaseLost(() => takeover.leaseLost());
  const stopWatching = presence.onNodeLeft((left) => {
    logger.warn({ left }, "node left the cluster");
    // On a later turn: presence applies the rest of the departure (the node's devices) first.
    setImmediate(() => {
      inbound.nodeLeft(left);
      calls.nodeLeft(left);
      router.nodeLeft(left, peers.forget(left));
      handoff.nodeLeft(left);
      takeover.nodeLeft(left);
    });
  });

  return {
    nodeId,
    hub,
    calls,
    routing,
    sessions: announced,
    handoff,
    commands,
    directory,
    async isLive(userId, deviceId) {
      if (hub.isAttached(userId, deviceId)) return true;
      return (await presence.locate(userId)).some((l) => l.deviceId === deviceId && l.nodeId !== nodeId);
    },
    start: () => takeover.start(),
    async drain() {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const limit = new Promise((resolve) => {
        timer = setTimeout(resolve, 2_000);
      });
      await Promise.race([announced.withdrawAll(), limit]);
      clearTimeout(timer);
    },
    async handedOver(untilMs) {
      if (!c) return; // a single node has nowhere to hand sessions to
      while (hub.stats().sessions > 0 && Date.now() < untilMs) await new Promise((r) => setTimeout(r, 50));
    },
    async close() {
      takeover.stop();
      stopWatching();
      stopFencing();
      await presence.close();
      await peers.close();
      await directory.close();
    },
  };
}

/** Joins the cluster: the node relay listens first, so presence can announce its address. */
async function joinCluster(
  c: NonNullable<Config["cluster"]>,
  nodeId: string,
  deps: Pick<ClusterStackDeps, "clock" | "logger" | "registry">,
): Promise<{ presence: Presence; peers: Peers }> {
  const { clock, logger, registry } = deps;
  // Loaded only here: a single node (and the in-process tests) never pays for etcd and grpc-js.
  const [{ startRelayPeers }, { createEtcdPresence }] = await Promise.all([
    import("./adapters/peers/relay-peers.ts"),
    import("./adapters/presence/etcd-presence.ts"),
  ]);
  // Addresses are looked up when a link connects, by then presence has joined.
  let joined: Presence | undefined;
  const relay = await startRelayPeers({
    nodeId,
    host: c.internalHost,
    port: c.internalPort,
    secret: c.relaySecret,
    acceptedSecrets: c.relayAcceptedSecrets,
    resolveAddress: async (id) => (await joined?.nodes())?.find((n) => n.nodeId === id)?.address,
    clock,
    logger,
    registry,
  });
  try {
    joined = await createEtcdPresence({
      nodeId,
      address: `${c.advertiseHost ?? c.internalHost}:${relay.port}`,
      shards: c.presenceShards?.map((s) => s.endpoints) ?? [c.etcdEndpoints],
      leaseTtlSeconds: c.leaseTtlS,
      keyPrefix: c.keyPrefix,
      logger,
      registry,
    });
  } catch (err) {
    await relay.close();
    throw err;
  }
  logger.info({ nodeId, relayPort: relay.port }, "joined cluster");
  return { presence: joined, peers: relay };
}

/**
 * The call directory: etcd in a cluster (unless configured onto the store file), else the
 * embedded sqlite file (also beside a Cassandra call store), which lets a single node take
 * its calls back after a restart.
 */
async function createDirectory(config: Config): Promise<CallDirectory> {
  const c = config.cluster;
  if (c?.callDirectory === "etcd") {
    const { createEtcdCallDirectory } = await import("./adapters/directory/etcd-call-directory.ts");
    return createEtcdCallDirectory({
      endpoints: c.etcdEndpoints,
      keyPrefix: `${c.keyPrefix.replace(/\/$/, "")}-calls/`,
    });
  }
  return createSqliteCallDirectory(config.store.sqlitePath);
}
