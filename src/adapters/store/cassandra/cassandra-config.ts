/**
 * Configuration of the Cassandra call store, and the driver client built from it.
 * Production: LOCAL_QUORUM / LOCAL_SERIAL in the pod's own DC. The single test node: ONE.
 */
import cassandra from "cassandra-driver";

/** Consistency levels the store accepts (names as in CQL). */
export type Consistency = "ONE" | "LOCAL_ONE" | "QUORUM" | "LOCAL_QUORUM" | "EACH_QUORUM" | "ALL";

/** Serial consistency of the lightweight transactions. */
export type SerialConsistency = "SERIAL" | "LOCAL_SERIAL";

/** `calls.cassandra` in the server config. */
export interface CassandraConfig {
  /** host or host:port, e.g. ["cassandra-0.cassandra.calldrop.svc:9042"]. */
  readonly contactPoints: readonly string[];
  /** The data center this pod talks to (DC-aware, token-aware routing). */
  readonly localDataCenter: string;
  readonly keyspace: string;
  /** Reads and writes; LOCAL_QUORUM in production. */
  readonly consistency: Consistency;
  /** Lightweight transactions (finalize, answer); LOCAL_SERIAL in production. */
  readonly serialConsistency: SerialConsistency;
  /** Client-side timeout of one request; must exceed the server's write/CAS timeouts. */
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** How far before `beforeMs` listOverdueRinging looks for ring deadlines. */
  readonly overdueLookbackMs: number;
  /**
   * Write a call's rows in one logged batch (atomic) and a report's samples in one single-partition
   * batch, instead of parallel statements: 2.7× the call records/s and 2.6× the samples/s per node
   * in bench/store (README.md there).
   */
  readonly batchWrites: boolean;
  /**
   * How far behind now readers of the call event log stay (docs/spec.md §9 "Call events"). An
   * event is positioned at its writer's clock when the write starts; a write that took over half
   * of this is written again at a new position, so the other half bounds the clock skew between
   * nodes: an event positioned further behind a reader's clock than this can be skipped.
   */
  readonly eventSettleMs: number;
  readonly credentials?: { readonly username: string; readonly password: string };
}

/** Defaults for everything but where the cluster is. */
export const cassandraDefaults = {
  consistency: "LOCAL_QUORUM",
  serialConsistency: "LOCAL_SERIAL",
  requestTimeoutMs: 5000,
  connectTimeoutMs: 2000,
  overdueLookbackMs: 60 * 60 * 1000,
  batchWrites: true,
  eventSettleMs: 6_000,
} as const satisfies Partial<CassandraConfig>;

const levels: Record<Consistency | SerialConsistency, number> = {
  ONE: cassandra.types.consistencies.one,
  LOCAL_ONE: cassandra.types.consistencies.localOne,
  QUORUM: cassandra.types.consistencies.quorum,
  LOCAL_QUORUM: cassandra.types.consistencies.localQuorum,
  EACH_QUORUM: cassandra.types.consistencies.eachQuorum,
  ALL: cassandra.types.consistencies.all,
  SERIAL: cassandra.types.consistencies.serial,
  LOCAL_SERIAL: cassandra.types.consistencies.localSerial,
};

/** The driver's code for a consistency level name. */
export function consistencyCode(level: Consistency | SerialConsistency): number {
  return levels[level];
}

/**
 * A driver client for `config` (not yet connected). Without `keyspace` it is not bound to one
 * (for migrations). Fails fast: short connect/read timeouts, reconnect attempts every ≤ 2 s.
 */
export function createCassandraClient(config: CassandraConfig, keyspace?: string): cassandra.Client {
  const client = new cassandra.Client({
    contactPoints: [...config.contactPoints],
    localDataCenter: config.localDataCenter,
    ...(keyspace ? { keyspace } : {}),
    ...(config.credentials ? { credentials: { ...config.credentials } } : {}),
    encoding: { useUndefinedAsUnset: true },
    socketOptions: { connectTimeout: config.connectTimeoutMs, readTimeout: config.requestTimeoutMs },
    pooling: { heartBeatInterval: 5000 },
    policies: { reconnection: new cassandra.policies.reconnection.ExponentialReconnectionPolicy(250, 2000, false) },
    queryOptions: {
      consistency: consistencyCode(config.consistency),
      serialConsistency: consistencyCode(config.serialConsistency),
      prepare: true,
    },
  });
  // cassandra-driver 4.10: when the control connection re-initialises after every node was down,
  // it replaces the Host object but leaves the old one's health-check interval running, which
  // then keeps the process alive for ever. Stop replaced (or removed) hosts.
  client.on("hostRemove", (host: { shutdown?: (waitForPending: boolean) => Promise<void> }) => {
    host.shutdown?.(true).catch(() => {});
  });
  return client;
}
