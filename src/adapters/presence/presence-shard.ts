/**
 * One presence shard (docs/cluster.md "Sharded presence"): a client of one etcd cluster,
 * this node's lease there (lease-keeper.ts) and the node's devices of the users that hash
 * to it (own-devices.ts), written on that lease, so they expire with it when the node dies.
 */
import { ConsecutiveBreaker, circuitBreaker, ExponentialBackoff, handleWhen, type IBackoff } from "cockatiel";
import { Etcd3, isRecoverableError, type Lease } from "etcd3";
import type { Logger } from "pino";
import type { PresenceKeys } from "./etcd-keys.ts";
import { type LeaseKeeper, startLeaseKeeper } from "./lease-keeper.ts";
import type { DeviceChange } from "./location-cache.ts";
import { createOwnDevices, type OwnDevices } from "./own-devices.ts";
import type { PresenceMetrics } from "./presence-metrics.ts";

/** Options of `connectPresenceShard`. */
export interface PresenceShardOptions {
  /** etcd client endpoints of this shard's cluster, host:port (plain http). */
  readonly endpoints: readonly string[];
  readonly keys: PresenceKeys;
  readonly nodeId: string;
  readonly ttlSeconds: number;
  /** Called with each of this node's device writes once etcd applied it. */
  readonly wrote: (change: DeviceChange) => void;
  readonly logger: Logger;
  readonly metrics: PresenceMetrics;
}

/** A connected shard; the lease is granted by `start`. */
export interface PresenceShard {
  readonly client: Etcd3;
  readonly own: OwnDevices;
  /**
   * Starts keeping this node's lease in the shard. `register` writes what else lives on the
   * lease before the devices (the node key, in shard 0) after every grant; `onLost` is told
   * when a live lease was lost.
   */
  start(hooks?: { register?: (lease: Lease) => Promise<void>; onLost?: () => void }): LeaseKeeper;
  /** Stops writing and revokes the lease (when started); the client stays open for its owner to close. */
  leave(): Promise<void>;
}

/** Connects to one shard's etcd (no request is sent until the first use). */
export function connectPresenceShard(options: PresenceShardOptions): PresenceShard {
  const { keys, nodeId, logger, metrics } = options;
  const client = new Etcd3({
    hosts: options.endpoints.map((e) => `http://${e}`),
    faultHandling: {
      // etcd3's default breaker stays open 5 s after 3 failures; recover faster after an etcd restart.
      host: () =>
        circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 1_000, breaker: new ConsecutiveBreaker(3) }),
      // Same object etcd3 builds by default (its typings name the interface of an older cockatiel).
      watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 2_000 }) as unknown as IBackoff<unknown>,
    },
  });
  let keeper: LeaseKeeper | undefined;
  const own = createOwnDevices({
    client,
    keys,
    nodeId,
    lease: {
      current: () => (keeper ? keeper.current() : Promise.reject(new Error("presence shard not started"))),
      isCurrent: (lease) => keeper?.isCurrent(lease) === true,
    },
    wrote: options.wrote,
    logger,
    metrics,
  });
  return {
    client,
    own,
    start(hooks = {}) {
      keeper = startLeaseKeeper({
        client,
        ttlSeconds: options.ttlSeconds,
        async onGranted(lease) {
          await hooks.register?.(lease);
          await own.announceAll(lease);
        },
        onLost: hooks.onLost,
        logger,
        metrics,
      });
      return keeper;
    },
    async leave() {
      own.close();
      await keeper?.close();
    },
  };
}
