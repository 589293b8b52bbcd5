/**
 * Which (endpoint, partition) pairs this node delivers (docs/spec.md §9 "Webhooks"): all of them
 * on a single node; in a cluster, the share etcd says this node holds, so that one node at a
 * time delivers each partition of each endpoint.
 */
export interface PartitionClaims {
  /** Whether this node delivers `partition` of `endpoint` now. */
  owns(endpoint: string, partition: number): boolean;
  close(): Promise<void>;
}
