/** Prometheus metrics of the etcd presence adapter (docs/style.md 15), on an injected registry. */
import { Counter, Gauge, type Registry } from "prom-client";

/** etcd operations the adapter performs, as metric labels. */
export type EtcdOperation = "read" | "write" | "lease" | "watch";
const operations: readonly EtcdOperation[] = ["read", "write", "lease", "watch"];

/** Creates and registers the presence metrics; `cachedUsers` is read at scrape time. */
export function createPresenceMetrics(registry: Registry, cachedUsers: () => number) {
  const registers = [registry];
  const metrics = {
    lookups: new Counter({
      name: "calldrop_presence_lookups_total",
      help: "Device lookups, by result: hit (served from the watched cache) or miss (read from etcd).",
      labelNames: ["result"] as const,
      registers,
    }),
    etcdRequests: new Counter({
      name: "calldrop_presence_etcd_requests_total",
      help: "Requests the presence adapter sent to etcd, by operation.",
      labelNames: ["operation"] as const,
      registers,
    }),
    etcdErrors: new Counter({
      name: "calldrop_presence_etcd_errors_total",
      help: "Failed etcd requests and watch interruptions, by operation.",
      labelNames: ["operation"] as const,
      registers,
    }),
    leaseGrants: new Counter({
      name: "calldrop_presence_lease_grants_total",
      help: "Node leases granted; more than one means a lease was lost and the node re-announced itself.",
      registers,
    }),
    deviceEvents: new Counter({
      name: "calldrop_presence_device_events_total",
      help: "Device changes this node received from etcd (only for the users it holds in its cache).",
      registers,
    }),
    watchResyncs: new Counter({
      name: "calldrop_presence_watch_resyncs_total",
      help: "Times a presence watch could not resume (etcd compacted its history) and its state was read again.",
      registers,
    }),
    cachedUsers: new Gauge({
      name: "calldrop_presence_cached_users",
      help: "Users whose device locations are held in the watched cache.",
      registers,
      collect() {
        this.set(cachedUsers());
      },
    }),
  };
  for (const result of ["hit", "miss"]) metrics.lookups.inc({ result }, 0);
  for (const operation of operations) {
    metrics.etcdRequests.inc({ operation }, 0);
    metrics.etcdErrors.inc({ operation }, 0);
  }
  return metrics;
}

/** The presence metrics object. */
export type PresenceMetrics = ReturnType<typeof createPresenceMetrics>;
