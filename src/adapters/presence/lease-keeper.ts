import type { Etcd3, Lease } from "etcd3";
import type { Logger } from "pino";
import type { PresenceMetrics } from "./presence-metrics.ts";

/** Keeps this node's one etcd lease alive, replacing it when it is lost. */
export interface LeaseKeeper {
  /** The live lease; waits while a lost lease is being replaced. Rejects once closed. */
  current(): Promise<Lease>;
  /** True while `lease` is the live lease. */
  isCurrent(lease: Lease): boolean;
  /** Stops keeping the lease alive and revokes it (etcd deletes every key attached to it). */
  close(): Promise<void>;
}

/** Options of `startLeaseKeeper`. */
export interface LeaseKeeperOptions {
  readonly client: Etcd3;
  readonly ttlSeconds: number;
  /**
   * Writes everything that lives on the lease (node key, this node's devices). Runs after
   * every grant, before the lease becomes current; a rejection discards the lease and retries
   * (except `LeaseAbandoned`, which stops the keeper).
   */
  readonly onGranted: (lease: Lease) => Promise<void>;
  /** The live lease was lost (before a new one is granted). */
  readonly onLost?: () => void;
  readonly logger: Logger;
  readonly metrics: PresenceMetrics;
}

const closedError = () => new Error("presence is closed");

/**
 * Thrown by `onGranted` when retrying cannot help (e.g. the cluster's presence layout differs from
 * this node's): the lease is revoked and `current()` rejects with this error from then on.
 */
export class LeaseAbandoned extends Error {}

/**
 * Grants the lease (retrying with backoff while etcd is unreachable) and keeps it alive
 * with etcd3's keepalive. When etcd3 reports the lease lost (etcd answered that it
 * expired, or no keepalive succeeded for twice the TTL), a new lease is granted and
 * `onGranted` re-announces the node on it.
 */
export function startLeaseKeeper(options: LeaseKeeperOptions): LeaseKeeper {
  const { client, ttlSeconds, onGranted, logger, metrics } = options;
  let active: Lease | undefined;
  let closed = false;
  let wake: (() => void) | undefined;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const establish = async (): Promise<Lease> => {
    for (let attempt = 0; ; attempt++) {
      if (closed) throw closedError();
      const lease = client.lease(ttlSeconds, { autoKeepAlive: true });
      lease.on("lost", (error: Error) => onLost(lease, error));
      try {
        metrics.etcdRequests.inc({ operation: "lease" });
        await lease.grant();
        await onGranted(lease);
        if (closed) {
          await lease.revoke().catch(() => {});
          throw closedError();
        }
        // Lost while writing? Its keys may be gone: start over on a fresh lease.
        if (lease.revoked()) throw new Error("lease lost while announcing");
        active = lease;
        metrics.leaseGrants.inc();
        if (attempt > 0) logger.info({ attempt }, "presence lease granted after retries");
        return lease;
      } catch (error) {
        if (error instanceof LeaseAbandoned) {
          await lease.revoke().catch(() => {});
          logger.error({ err: error }, "presence lease abandoned");
          throw error;
        }
        lease.release();
        if (closed) throw closedError();
        metrics.etcdErrors.inc({ operation: "lease" });
        logger[attempt === 0 ? "warn" : "debug"]({ err: error, attempt }, "presence lease grant failed; retrying");
        await pause(Math.min(100 * 2 ** attempt, 2_000));
      }
    }
  };

  const onLost = (lease: Lease, error: Error) => {
    if (lease !== active || closed) return;
    active = undefined;
    metrics.etcdErrors.inc({ operation: "lease" });
    logger.warn({ err: error }, "presence lease lost; granting a new one and re-announcing this node");
    ready = establish();
    ready.catch(() => {}); // observed by current(); never an unhandled rejection
    options.onLost?.();
  };

  let ready = establish();
  ready.catch(() => {});

  return {
    current: () => (closed ? Promise.reject(closedError()) : ready),
    isCurrent: (lease) => lease === active && !lease.revoked(),
    async close() {
      if (closed) return;
      closed = true;
      wake?.();
      // A grant in flight sees `closed` and revokes its own lease; otherwise revoke the live one.
      const lease = await ready.catch(() => undefined);
      active = undefined;
      if (!lease) return;
      metrics.etcdRequests.inc({ operation: "lease" });
      await lease.revoke().catch((error: unknown) => {
        metrics.etcdErrors.inc({ operation: "lease" });
        logger.warn({ err: error }, "presence lease revoke failed; keys expire with the TTL");
      });
    },
  };
}
