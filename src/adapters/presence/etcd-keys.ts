/**
 * The etcd key layout of presence (docs/spec.md §10), under a configurable prefix:
 *   <prefix>shards                      = the number of presence shards (shard 0 only, no lease)
 *   <prefix>nodes/<nodeId>              = internal address (host:port), on the node's lease (shard 0)
 *   <prefix>devices/<userId>/<deviceId> = {"nodeId","sessionId"}, on the owning node's lease of the
 *                                         user's shard (user-shard.ts)
 * Ids are URI-encoded so a "/" inside an id cannot split a key.
 */

/** A key of the layout, parsed. */
export type PresenceKey =
  | { readonly kind: "node"; readonly nodeId: string }
  | { readonly kind: "device"; readonly userId: string; readonly deviceId: string };

/** Builds and parses the keys under one prefix. */
export interface PresenceKeys {
  readonly prefix: string;
  readonly nodesPrefix: string;
  /** The shard-count marker (shard-layout.ts). */
  readonly shards: string;
  node(nodeId: string): string;
  device(userId: string, deviceId: string): string;
  /** Prefix of all devices of one user. */
  user(userId: string): string;
  /** Parses a key under `prefix`; undefined for anything else. */
  parse(key: string): PresenceKey | undefined;
}

/** Creates the key layout under `prefix` (must end with "/"). */
export function createPresenceKeys(prefix = "/calldrop/"): PresenceKeys {
  if (!prefix.endsWith("/")) throw new Error(`presence key prefix must end with "/": ${prefix}`);
  const nodesPrefix = `${prefix}nodes/`;
  const devicesPrefix = `${prefix}devices/`;
  const enc = encodeURIComponent;
  return {
    prefix,
    nodesPrefix,
    shards: `${prefix}shards`,
    node: (nodeId) => nodesPrefix + enc(nodeId),
    device: (userId, deviceId) => `${devicesPrefix}${enc(userId)}/${enc(deviceId)}`,
    user: (userId) => `${devicesPrefix}${enc(userId)}/`,
    parse(key) {
      if (key.startsWith(nodesPrefix)) {
        const rest = key.slice(nodesPrefix.length);
        return rest && !rest.includes("/") ? { kind: "node", nodeId: decodeURIComponent(rest) } : undefined;
      }
      if (!key.startsWith(devicesPrefix)) return undefined;
      const parts = key.slice(devicesPrefix.length).split("/");
      if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
      return { kind: "device", userId: decodeURIComponent(parts[0]), deviceId: decodeURIComponent(parts[1]) };
    },
  };
}

/** The value stored under a device key. */
export interface DeviceValue {
  readonly nodeId: string;
  readonly sessionId: string;
}

/** Encodes a device value; deterministic, so a transaction can compare it byte for byte. */
export function encodeDeviceValue(value: DeviceValue): string {
  return JSON.stringify({ nodeId: value.nodeId, sessionId: value.sessionId });
}

/** Decodes a device value; undefined when it is not one. */
export function decodeDeviceValue(raw: string): DeviceValue | undefined {
  try {
    const v: unknown = JSON.parse(raw);
    if (typeof v !== "object" || v === null) return undefined;
    const { nodeId, sessionId } = v as Record<string, unknown>;
    return typeof nodeId === "string" && typeof sessionId === "string" ? { nodeId, sessionId } : undefined;
  } catch {
    return undefined;
  }
}
