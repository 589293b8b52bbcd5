import type { DeviceLocation } from "../../app/ports/presence.ts";

/** One change of a device key, as the watch reports it, in etcd revision order. */
export interface DeviceChange {
  readonly userId: string;
  readonly deviceId: string;
  /** The new location; undefined when the key was deleted. */
  readonly location: DeviceLocation | undefined;
  readonly revision: number;
}

/** A consistent read of one user's devices at `revision`. */
export interface UserSnapshot {
  readonly revision: number;
  readonly locations: readonly DeviceLocation[];
}

/**
 * A bounded cache of device locations per user, kept correct by the watch: only users
 * that were looked up are held (least recently used evicted beyond `maxUsers`), and
 * watch changes for other users are ignored. A load (range read at revision R) races
 * the watch: changes for a user arriving while it loads are buffered and those newer
 * than R applied on top, so no change between the read and the watch is lost.
 */
export interface LocationCache {
  /** The cached devices of a user (refreshing its recency), or undefined on a miss. */
  get(userId: string): readonly DeviceLocation[] | undefined;
  /** Loads a user with `read` (one load at a time per user) and caches the result. */
  load(userId: string, read: () => Promise<UserSnapshot>): Promise<readonly DeviceLocation[]>;
  /** Applies one watch change. */
  apply(change: DeviceChange): void;
  /** True when changes of this user matter (cached or loading). */
  tracks(userId: string): boolean;
  /** Forgets everything (the watch had a gap); loads in flight are not cached. */
  reset(): void;
  /** Number of cached users. */
  readonly size: number;
}

interface UserEntry {
  readonly devices: Map<string, DeviceLocation>;
  /** Changes at or below this revision are already in `devices`. */
  readonly loadedAt: number;
}

interface Loading {
  result: Promise<readonly DeviceLocation[]>;
  readonly buffered: DeviceChange[];
  readonly epoch: number;
}

/** Creates an empty cache holding at most `maxUsers` users. */
export function createLocationCache(maxUsers: number): LocationCache {
  const users = new Map<string, UserEntry>();
  const loading = new Map<string, Loading>();
  let epoch = 0;

  const applyTo = (entry: UserEntry, change: DeviceChange) => {
    if (change.revision <= entry.loadedAt) return;
    if (change.location) entry.devices.set(change.deviceId, change.location);
    else entry.devices.delete(change.deviceId);
  };
  const store = (userId: string, entry: UserEntry) => {
    users.delete(userId);
    users.set(userId, entry);
    for (const oldest of users.keys()) {
      if (users.size <= maxUsers) break;
      users.delete(oldest);
    }
  };

  return {
    get(userId) {
      const entry = users.get(userId);
      if (!entry) return undefined;
      store(userId, entry);
      return [...entry.devices.values()];
    },
    load(userId, read) {
      const inFlight = loading.get(userId);
      if (inFlight) return inFlight.result;
      const state: Loading = { buffered: [], epoch, result: Promise.resolve([]) };
      loading.set(userId, state);
      const run = async () => {
        try {
          const snapshot = await read();
          const entry: UserEntry = {
            devices: new Map(snapshot.locations.map((l) => [l.deviceId, l])),
            loadedAt: snapshot.revision,
          };
          for (const change of state.buffered) applyTo(entry, change);
          if (state.epoch === epoch) store(userId, entry);
          return [...entry.devices.values()];
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
    tracks: (userId) => users.has(userId) || loading.has(userId),
    reset() {
      epoch++;
      users.clear();
      loading.clear();
    },
    get size() {
      return users.size;
    },
  };
}
