import type { DeviceLocation } from "../../app/ports/presence.ts";

/** One change of a device key, as a watch or this node's own write reports it, with its etcd revision. */
export interface DeviceChange {
  readonly userId: string;
  readonly deviceId: string;
  /** The new location; undefined when the key was deleted. */
  readonly location: DeviceLocation | undefined;
  readonly revision: number;
}

/** A consistent read of one user's devices at `revision`, each with the revision of its last change. */
export interface UserSnapshot {
  readonly revision: number;
  readonly locations: readonly (DeviceLocation & { readonly modRevision: number })[];
}

/** What the owner of the cache does when a user enters or leaves it (docs/cluster.md "Presence at scale"). */
export interface CacheHooks {
  /** `userId` was read at `revision` and is now held: follow its changes after that revision. */
  cached(userId: string, revision: number): void;
  /** `userId` is no longer held (least recently used, idle, or forgotten): stop following it. */
  evicted(userId: string): void;
}

/** Options of `createLocationCache`. */
export interface LocationCacheOptions {
  readonly maxUsers: number;
  /** A user not looked up for this long is dropped by `evictIdle`. */
  readonly idleMs: number;
  readonly now: () => number;
  readonly hooks: CacheHooks;
}

/**
 * A bounded cache of the device locations of the users this node looked up — only
 * those: each is followed by its own watch while held (`hooks`), so what a node receives
 * per presence change does not depend on how many nodes there are. A load (range read
 * at revision R) may race changes (this node's own writes, applied as they succeed):
 * those arriving while it loads are buffered and the ones newer than R applied on top.
 * Each device keeps the revision of its last change (deletions too), so a change older
 * than what is held — a watch catching up after an own write — never undoes a newer one.
 */
export interface LocationCache {
  /** The cached devices of a user (refreshing its recency), or undefined on a miss. */
  get(userId: string): readonly DeviceLocation[] | undefined;
  /** Loads a user with `read` (one load at a time per user) and caches the result. */
  load(userId: string, read: () => Promise<UserSnapshot>): Promise<readonly DeviceLocation[]>;
  /** Applies one change (ignored for users neither cached nor loading). */
  apply(change: DeviceChange): void;
  /** Drops a user (a load in flight is not cached); its next lookup reads it again. */
  forget(userId: string): void;
  /** Drops every user not looked up within `idleMs`. */
  evictIdle(): void;
  /** Number of cached users. */
  readonly size: number;
}

interface DeviceEntry {
  /** Undefined once deleted (kept so an older change cannot bring it back). */
  readonly location: DeviceLocation | undefined;
  readonly revision: number;
}

interface UserEntry {
  readonly devices: Map<string, DeviceEntry>;
  /** Every change at or below this revision is in `devices`. */
  readonly loadedAt: number;
  usedAt: number;
}

interface Loading {
  result: Promise<readonly DeviceLocation[]>;
  readonly buffered: DeviceChange[];
}

/** Creates an empty cache. */
export function createLocationCache(options: LocationCacheOptions): LocationCache {
  const { maxUsers, idleMs, now, hooks } = options;
  /** In recency order: the first is the least recently used. */
  const users = new Map<string, UserEntry>();
  const loading = new Map<string, Loading>();

  const applyTo = (entry: UserEntry, change: DeviceChange) => {
    const held = entry.devices.get(change.deviceId);
    if (change.revision <= Math.max(entry.loadedAt, held?.revision ?? 0)) return;
    entry.devices.set(change.deviceId, { location: change.location, revision: change.revision });
  };
  const drop = (userId: string) => {
    if (users.delete(userId)) hooks.evicted(userId);
  };
  const touch = (userId: string, entry: UserEntry) => {
    entry.usedAt = now();
    users.delete(userId);
    users.set(userId, entry);
  };
  const locations = (entry: UserEntry) => [...entry.devices.values()].flatMap((d) => (d.location ? [d.location] : []));

  return {
    get(userId) {
      const entry = users.get(userId);
      if (!entry) return undefined;
      touch(userId, entry);
      return locations(entry);
    },
    load(userId, read) {
      const inFlight = loading.get(userId);
      if (inFlight) return inFlight.result;
      const state: Loading = { buffered: [], result: Promise.resolve([]) };
      loading.set(userId, state);
      const run = async () => {
        try {
          const snapshot = await read();
          const entry: UserEntry = {
            devices: new Map(
              snapshot.locations.map(({ modRevision, ...location }) => [
                location.deviceId,
                { location, revision: modRevision },
              ]),
            ),
            loadedAt: snapshot.revision,
            usedAt: now(),
          };
          for (const change of state.buffered) applyTo(entry, change);
          if (loading.get(userId) === state && !users.has(userId)) {
            touch(userId, entry);
            hooks.cached(userId, snapshot.revision);
            for (const oldest of users.keys()) {
              if (users.size <= maxUsers) break;
              drop(oldest);
            }
          }
          return locations(entry);
        } finally {
          if (loading.get(userId) === state) loading.delete(userId);
        }
      };
      state.result = run();
      return state.result;
    },
    apply(change) {
      const entry = users.get(change.userId);
      if (entry) applyTo(entry, change);
      else loading.get(change.userId)?.buffered.push(change);
    },
    forget(userId) {
      loading.delete(userId);
      drop(userId);
    },
    evictIdle() {
      const before = now() - idleMs;
      for (const [userId, entry] of users) {
        if (entry.usedAt > before) break; // recency order: the rest were used later
        drop(userId);
      }
    },
    get size() {
      return users.size;
    },
  };
}
