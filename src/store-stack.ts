/**
 * Part of the composition root: the call store chosen by config — the embedded
 * sqlite file for single-node use, or Cassandra behind a durable local outbox so
 * no call record is lost while the cluster is unreachable (docs/spec.md §7).
 */
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { Gauge } from "prom-client";
import { createCassandraBlockList } from "./adapters/store/cassandra/cassandra-block-list.ts";
import { createCassandraCallSettings } from "./adapters/store/cassandra/cassandra-call-settings.ts";
import { createCassandraCallStore } from "./adapters/store/cassandra/cassandra-call-store.ts";
import { isTransient } from "./adapters/store/cassandra/driver-errors.ts";
import { createOutboxCallStore } from "./adapters/store/outbox/outbox-call-store.ts";
import { createSqliteBlockList } from "./adapters/store/sqlite-block-list.ts";
import { createSqliteCallSettings } from "./adapters/store/sqlite-call-settings.ts";
import { createSqliteCallStore } from "./adapters/store/sqlite-call-store.ts";
import type { BlockList } from "./app/ports/block-list.ts";
import type { CallSettingsStore } from "./app/ports/call-settings-store.ts";
import type { CallStore, DeferredOutcomes } from "./app/ports/call-store.ts";
import type { Clock } from "./app/ports/clock.ts";
import type { Config } from "./config.ts";

/**
 * Builds the configured call store. Cassandra: a wrong schema stops the start; an unreachable
 * cluster does not (a pod restarted during an outage would crash-loop and stop every call): the
 * server starts on the outbox, and the store checks the schema once Cassandra answers.
 */
export async function createCallStore(
  config: Config,
  deps: { clock: Clock; logger: Logger; registry: Registry },
): Promise<CallStore & Partial<DeferredOutcomes> & Partial<Drainable>> {
  const cassandra = config.store.cassandra;
  if (config.store.kind !== "cassandra" || !cassandra) return createSqliteCallStore(config.store.sqlitePath);
  const inner = createCassandraCallStore(cassandra, undefined, deps.clock);
  try {
    await inner.checkSchema();
  } catch (err) {
    if (!(err instanceof Error && isTransient(err.cause))) {
      await inner.close();
      throw err;
    }
    deps.logger.warn(
      { reason: err.message },
      "Cassandra unreachable at startup: starting on the outbox, schema checked when it answers",
    );
  }
  const store = createOutboxCallStore({
    inner,
    path: config.store.outboxPath,
    clock: deps.clock,
    logger: deps.logger,
  });
  new Gauge({
    name: "calldrop_call_store_outbox_pending",
    help: "Call store writes queued locally while Cassandra is unreachable.",
    registers: [deps.registry],
    collect() {
      this.set(store.pending());
    },
  });
  return store;
}

/** What a stopping node needs of a store with a local outbox (the Cassandra store's). */
export interface Drainable {
  /** Writes waiting for replay. */
  pending(): number;
  /** Resolves once the queue is empty. */
  drained(): Promise<void>;
}

/**
 * How long a stopping node waits for its outbox after the sessions drained, at least, when the
 * drain window is used up (docs/spec.md §7; docs/cluster.md "Graceful drain"): k8s' terminationGracePeriodSeconds
 * covers preStop + drainTimeoutMs + this + the lease revoke (k8s/design.test.ts checks it).
 */
export const OUTBOX_DRAIN_FLOOR_MS = 10_000;

/**
 * Waits until the outbox has replayed every queued write or `untilMs` has passed; returns the
 * writes left. What is left stays in the outbox file, replayed by the next process that opens
 * it (the same pod's volume: k8s/base/signaling/statefulset.yaml).
 */
export async function drainOutbox(store: Partial<Drainable>, untilMs: number, logger: Logger): Promise<number> {
  const queued = store.pending?.() ?? 0;
  if (queued === 0 || !store.drained) return 0;
  logger.info({ pending: queued }, "stopping: waiting for the call-store outbox to drain");
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, untilMs - Date.now()));
  });
  await Promise.race([store.drained(), timeUp]).finally(() => clearTimeout(timer));
  const left = store.pending?.() ?? 0;
  if (left > 0) {
    logger.warn(
      { pending: left },
      "stopping with writes in the outbox: replayed when a process opens this volume again",
    );
  } else {
    logger.info({ replayed: queued }, "call-store outbox drained");
  }
  return left;
}

/** The users' call settings where the call store lives (docs/spec.md §14 "Call waiting"). */
export function createCallSettingsStore(config: Config): CallSettingsStore {
  const { kind, sqlitePath, cassandra } = config.store;
  return kind === "cassandra" && cassandra
    ? createCassandraCallSettings(cassandra)
    : createSqliteCallSettings(sqlitePath);
}

/** The block lists, where the call store is: Cassandra for a cluster, else the embedded file. */
export function createBlockList(config: Config): BlockList {
  const { kind, cassandra, sqlitePath } = config.store;
  return kind === "cassandra" && cassandra ? createCassandraBlockList(cassandra) : createSqliteBlockList(sqlitePath);
}
