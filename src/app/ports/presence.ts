/** Where one connected device's signaling session lives (docs/spec.md §10). */
export interface DeviceLocation {
  readonly userId: string;
  readonly deviceId: string;
  /** The signaling node holding the session. */
  readonly nodeId: string;
  readonly sessionId: string;
}

/** A live signaling node and its internal (node-to-node) address. */
export interface NodeInfo {
  readonly nodeId: string;
  /** host:port of the node's internal relay listener. */
  readonly address: string;
}

/**
 * Presence and routing: which node holds each connected device. One liveness
 * unit per node (an etcd lease in the cluster adapter): when a node dies its
 * devices disappear within the TTL. Lookups are cached and kept correct by a
 * watch, so the hot path costs no round trip after the first lookup.
 */
export interface Presence {
  /** This node's id. */
  readonly nodeId: string;
  /** Records a device as connected on this node (replaces an older location of the same device). */
  announce(location: Omit<DeviceLocation, "nodeId">): Promise<void>;
  /** Forgets a device, only if `sessionId` is still its current session. */
  withdraw(userId: string, deviceId: string, sessionId: string): Promise<void>;
  /** Every connected device of a user, on any node. */
  locate(userId: string): Promise<readonly DeviceLocation[]>;
  /** Live nodes (including this one). */
  nodes(): Promise<readonly NodeInfo[]>;
  /** Calls `listener` when a node leaves (lease expired/revoked); returns an unsubscribe function. */
  onNodeLeft(listener: (nodeId: string) => void): () => void;
  /**
   * Calls `listener` when this node's own liveness lapsed (its etcd lease was lost, e.g. cut off
   * from etcd for longer than the TTL): the others may have seen it leave and taken its calls
   * over. The node stays in the cluster on a new lease. Returns an unsubscribe function.
   */
  onLeaseLost(listener: () => void): () => void;
  /** Leaves the cluster (revokes this node's liveness) and releases resources. */
  close(): Promise<void>;
}
