/**
 * The app core of several nodes in one process (docs/cluster.md), as connect-es tests its
 * router with `createRouterTransport`: each node is the real `createClusterStack` and
 * `createNodeSignaling` wiring, on in-process presence and peers shared by all nodes, one
 * in-memory call directory and sqlite store (what a cluster shares in etcd and Cassandra),
 * and one manual clock the test moves. Devices are driven through the signaling facade the
 * transport calls (open a session, run commands, read the session's events), so nothing
 * here sleeps: time passes only when the test says so.
 */
import { pino } from "pino";
import { Registry } from "prom-client";
import { createManualClock, type ManualClock, type ScopedClock } from "./adapters/clock/manual-clock.ts";
import { createMemoryCallDirectory } from "./adapters/directory/memory-call-directory.ts";
import { createMetrics } from "./adapters/metrics/service-metrics.ts";
import { createLogNotifier, type LogNotifier } from "./adapters/notify/log-notifier.ts";
import { createInProcessBus } from "./adapters/peers/in-process-peers.ts";
import { createInProcessRegistry } from "./adapters/presence/in-process-presence.ts";
import { createSqliteBlockList } from "./adapters/store/sqlite-block-list.ts";
import { createSqliteCallSettings } from "./adapters/store/sqlite-call-settings.ts";
import { createSqliteCallStore } from "./adapters/store/sqlite-call-store.ts";
import { type Blocking, createBlocking } from "./app/blocking.ts";
import { type CallSettings, createCallSettings } from "./app/call-settings.ts";
import type { CallDirectory } from "./app/ports/call-directory.ts";
import type { CallStore } from "./app/ports/call-store.ts";
import type { Metrics } from "./app/ports/metrics.ts";
import type { SessionEvent, SessionEventBody } from "./app/session-events.ts";
import type { Session, SessionSink } from "./app/session-hub.ts";
import type { Signaling } from "./app/signaling.ts";
import { type ClusterStack, createClusterStack } from "./cluster-stack.ts";
import { type Config, loadConfig } from "./config.ts";
import type { Command } from "./domain/commands.ts";
import { createNodeSignaling } from "./signaling-stack.ts";

/** One node: its stack and facade, on its own view of the shared clock. */
export interface TestNode {
  readonly stack: ClusterStack;
  readonly signaling: Signaling;
  readonly clock: ScopedClock;
  readonly metrics: Metrics;
  /** False once crashed. */
  alive: boolean;
}

/** The body of one event of type `T`. */
export type EventOf<T extends SessionEventBody["type"]> = Extract<SessionEventBody, { type: T }>;

/** A device with one session at a time, as a client of the signaling facade. */
export interface TestDevice {
  readonly userId: string;
  readonly deviceId: string;
  /** Every event the device received, over all its connections, in arrival order. */
  readonly events: SessionEvent[];
  /** The bodies of the events of `type` received so far. */
  seen<T extends SessionEventBody["type"]>(type: T): EventOf<T>[];
  /** Waits until `count` events of `type` have arrived; returns the last of them. */
  next<T extends SessionEventBody["type"]>(type: T, count?: number): Promise<EventOf<T>>;
  /** Runs a command (fresh command id unless one is given); rejects with the DomainError. */
  command(command: Command, commandId?: string): Promise<{ callId: string; mergedIntoExisting: boolean }>;
  /** The stream drops; the session waits for a resume. */
  drop(): void;
  /** Resumes the session on node `k` with its token and the last seq it saw. */
  resume(k: number): Promise<void>;
  /** Opens a fresh session on node `k` (the old one is gone, e.g. with its node). */
  reopen(k: number): Promise<void>;
}

/** One stream of a device to a node. */
interface Connection {
  readonly k: number;
  readonly session: Session;
  readonly sink: SessionSink;
  /** Whether the device still reads this stream. */
  readonly state: { listening: boolean };
}

/** Nodes, devices and time of one test. */
export interface TestCluster {
  readonly config: Config;
  readonly clock: ManualClock;
  readonly store: CallStore;
  readonly directory: CallDirectory;
  /** Push notifications decided by any node (none of the test users has a push target). */
  readonly notifier: LogNotifier;
  /** The users' block lists, shared by the nodes. */
  readonly blocking: Blocking;
  /** The users' call settings, shared by the nodes. */
  readonly settings: CallSettings;
  node(k: number): TestNode;
  /** Opens a fresh session of `userId`'s `deviceId` on node `k`. */
  device(k: number, userId: string, deviceId: string): Promise<TestDevice>;
  /** Moves time forward in `stepMs` steps, letting the work each step starts run (no wall-clock wait). */
  advance(ms: number, stepMs?: number): Promise<void>;
  /** Lets pending in-process work (relay hops, store writes) run. */
  settle(): Promise<void>;
  /**
   * Node `k` dies: its timers stop, its devices' streams break, and its liveness ends, so the
   * other nodes see it leave (as when its etcd lease expires) and take its calls over.
   */
  crash(k: number): Promise<void>;
  close(): Promise<void>;
}

/** Waits (turn by turn of the event loop, at most `deadlineMs` of wall time) until `cond` holds. */
export async function until(what: string, cond: () => boolean, deadlineMs = 5_000): Promise<void> {
  const end = performance.now() + deadlineMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** Builds `count` nodes sharing presence, relay, directory, store and clock. */
export async function createTestCluster(count = 2): Promise<TestCluster> {
  const config = loadConfig({});
  const clock = createManualClock();
  const logger = pino({ level: "silent" });
  const store = createSqliteCallStore(":memory:");
  const directory = createMemoryCallDirectory();
  const notifier = createLogNotifier(logger);
  const blocking = createBlocking({ list: createSqliteBlockList(":memory:"), clock, logger });
  const settings = createCallSettings({ store: createSqliteCallSettings(":memory:"), logger });
  const inProcess = { registry: createInProcessRegistry(), bus: createInProcessBus() };
  const nodes: TestNode[] = [];
  for (let k = 0; k < count; k++) {
    const nodeClock = clock.scope();
    const registry = new Registry();
    const metrics = createMetrics(registry, { version: "test" });
    const stack = await createClusterStack(config, {
      clock: nodeClock,
      store,
      notifier,
      blocking,
      settings,
      metrics,
      logger,
      registry,
      directory,
      inProcess,
    });
    stack.start();
    const signaling = createNodeSignaling(config, stack, { clock: nodeClock, metrics });
    nodes.push({ stack, signaling, clock: nodeClock, metrics, alive: true });
  }
  /** Per device: its stream breaks when the node it is connected to dies. */
  const breakOnCrash: ((k: number) => void)[] = [];
  let nextCommand = 0;

  const node = (k: number) => {
    const n = nodes[k];
    if (!n) throw new Error(`no node ${k}`);
    return n;
  };

  async function settle(): Promise<void> {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  }

  async function device(k: number, userId: string, deviceId: string): Promise<TestDevice> {
    const events: SessionEvent[] = [];
    let current: Connection | undefined;

    async function connect(at: number, resume?: { resumeToken: string; lastSeq: number }): Promise<void> {
      const state: Connection["state"] = { listening: true };
      const sink: SessionSink = {
        // Pushes into a stream the device left (dropped, or its node died) never reach it.
        push: (e) => {
          if (state.listening) events.push(e);
        },
        close: () => {
          state.listening = false;
        },
      };
      const session = await node(at).signaling.open({ userId, deviceId, ...resume }, sink);
      current = { k: at, session, sink, state };
    }
    const live = () => {
      if (!current) throw new Error(`${userId}/${deviceId} has no session`);
      return current;
    };
    const lastSeq = () => events.reduce((max, e) => (e.body.type === "session_ready" ? max : Math.max(max, e.seq)), 0);
    const ofType = <T extends SessionEventBody["type"]>(type: T) =>
      events.flatMap((e) => (e.body.type === type ? [e.body as EventOf<T>] : []));

    const d: TestDevice = {
      userId,
      deviceId,
      events,
      seen: ofType,
      async next(type, count = 1) {
        await until(`${userId}/${deviceId} got ${count} × ${type}`, () => ofType(type).length >= count);
        return ofType(type)[count - 1] as EventOf<typeof type>;
      },
      command(command, commandId = `cmd-${++nextCommand}`) {
        const { k: at, session } = live();
        return node(at).signaling.execute(session, commandId, command);
      },
      drop() {
        const { k: at, session, sink, state } = live();
        state.listening = false;
        node(at).signaling.detach(session, sink);
      },
      async resume(at) {
        const ready = ofType("session_ready").at(-1);
        if (!ready) throw new Error("never had a session");
        await connect(at, { resumeToken: ready.resumeToken, lastSeq: lastSeq() });
      },
      reopen: (at) => connect(at),
    };
    await connect(k);
    breakOnCrash.push((dead) => {
      if (current?.k === dead) current.state.listening = false;
    });
    return d;
  }

  return {
    config,
    clock,
    store,
    directory,
    notifier,
    blocking,
    settings,
    node,
    device,
    async advance(ms, stepMs = 1_000) {
      for (let done = 0; done < ms; done += stepMs) {
        clock.advance(Math.min(stepMs, ms - done));
        await settle();
      }
    },
    settle,
    async crash(k) {
      const n = node(k);
      n.alive = false;
      n.clock.halt();
      for (const breakStream of breakOnCrash) breakStream(k);
      await n.stack.close();
      await settle();
    },
    async close() {
      for (const n of nodes) {
        if (!n.alive) continue;
        n.alive = false;
        n.clock.halt();
        await n.stack.close();
      }
      await store.close();
    },
  };
}
