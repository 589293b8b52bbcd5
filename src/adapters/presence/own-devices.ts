import type { Etcd3, IEvent, Lease } from "etcd3";
import type { Logger } from "pino";
import { encodeDeviceValue, type PresenceKeys } from "./etcd-keys.ts";
import type { DeviceChange } from "./location-cache.ts";
import type { PresenceMetrics } from "./presence-metrics.ts";

/** Options of `createOwnDevices`. */
export interface OwnDevicesOptions {
  readonly client: Etcd3;
  readonly keys: PresenceKeys;
  readonly nodeId: string;
  /** The node's live lease (waits while a lost one is replaced) and whether a lease is still live. */
  readonly lease: { current(): Promise<Lease>; isCurrent(lease: Lease): boolean };
  /** Called with each of this node's writes once etcd applied it (so its own cache reflects it at once). */
  readonly wrote: (change: DeviceChange) => void;
  readonly logger: Logger;
  readonly metrics: PresenceMetrics;
}

/** The devices connected to this node (of the users of one shard), as written to etcd on the node's lease there. */
export interface OwnDevices {
  announce(userId: string, deviceId: string, sessionId: string): Promise<void>;
  withdraw(userId: string, deviceId: string, sessionId: string): Promise<void>;
  /** Writes every device on a freshly granted lease (part of the lease keeper's `onGranted`). */
  announceAll(lease: Lease): Promise<void>;
  /** Watch events: forgets devices another node or session wrote after us. */
  observe(event: IEvent): void;
  /** Stops retrying writes. */
  close(): void;
}

interface OwnDevice {
  readonly userId: string;
  readonly deviceId: string;
  readonly sessionId: string;
  readonly value: string;
  /** Revision of this node's last successful write of it. */
  writtenAt: number | undefined;
}

/**
 * Writes of this node's device keys. Ordering rules: `own` changes synchronously at call
 * time; writes of one key are serialised; every write first awaits the live lease, which
 * is withheld while `announceAll` re-announces on a new lease (reading `own` live), so a
 * withdraw never races a re-announce. Failed writes are retried until they succeed.
 */
export function createOwnDevices(options: OwnDevicesOptions): OwnDevices {
  const { client, keys, nodeId, lease: leases, wrote, logger, metrics } = options;
  const own = new Map<string, OwnDevice>();
  const chains = new Map<string, Promise<void>>();
  let closed = false;

  /** Per device key, one write at a time, in call order. */
  const serial = (key: string, write: () => Promise<void>): Promise<void> => {
    const next = (chains.get(key) ?? Promise.resolve()).then(write);
    chains.set(key, next);
    void next.finally(() => chains.get(key) === next && chains.delete(key));
    return next;
  };
  /** Retries `attempt` (backoff up to 2 s) until it reports done or the adapter closes. */
  const persist = async (what: string, attempt: () => Promise<boolean>) => {
    for (let n = 0; !closed; n++) {
      try {
        if (await attempt()) return;
      } catch (error) {
        if (closed) return;
        metrics.etcdErrors.inc({ operation: "write" });
        logger[n === 0 ? "warn" : "debug"]({ err: error, attempt: n }, `presence ${what} failed; retrying`);
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** n, 2_000)).unref());
      }
    }
  };
  const written = (device: OwnDevice, revision: number) => {
    device.writtenAt = revision;
    const { userId, deviceId, sessionId } = device;
    wrote({ userId, deviceId, location: { userId, deviceId, nodeId, sessionId }, revision });
  };
  const put = async (lease: Lease, key: string, device: OwnDevice) => {
    metrics.etcdRequests.inc({ operation: "write" });
    const res = await lease.put(key).value(device.value).exec();
    written(device, Number(res.header.revision));
  };
  /** On a new lease: writes a device unless another write took the key over since ours. */
  const reannounce = async (lease: Lease, key: string, device: OwnDevice) => {
    if (device.writtenAt === undefined) return void (await put(lease, key, device));
    metrics.etcdRequests.inc({ operation: "write" });
    // mod_revision is 0 once our expired lease deleted the key, our revision if it survived.
    const res = await client
      .if(key, "Mod", "<", device.writtenAt + 1)
      .then(lease.put(key).value(device.value))
      .commit();
    if (res.succeeded) written(device, Number(res.header.revision));
    else if (own.get(key) === device) {
      own.delete(key);
      logger.info({ userId: device.userId, deviceId: device.deviceId }, "device moved on while the lease was lost");
    }
  };

  return {
    async announce(userId, deviceId, sessionId) {
      const key = keys.device(userId, deviceId);
      const value = encodeDeviceValue({ nodeId, sessionId });
      const device: OwnDevice = { userId, deviceId, sessionId, value, writtenAt: undefined };
      own.set(key, device);
      await serial(key, () =>
        persist("announce", async () => {
          if (own.get(key) !== device) return true; // superseded or withdrawn
          const lease = await leases.current();
          await put(lease, key, device);
          // Lost meanwhile: write again on the new lease.
          return leases.isCurrent(lease);
        }),
      );
    },
    async withdraw(userId, deviceId, sessionId) {
      const key = keys.device(userId, deviceId);
      const device = own.get(key);
      if (device?.sessionId !== sessionId) return;
      own.delete(key);
      await serial(key, () =>
        persist("withdraw", async () => {
          await leases.current(); // after any re-announce in progress, which no longer sees this device
          metrics.etcdRequests.inc({ operation: "write" });
          // Only while the key still holds this node's value for this session (the device may have moved on).
          const res = await client.if(key, "Value", "==", device.value).then(client.delete().key(key)).commit();
          if (res.succeeded) wrote({ userId, deviceId, location: undefined, revision: Number(res.header.revision) });
          return true;
        }),
      );
    },
    async announceAll(lease) {
      // A live iterator: devices announced while this runs are written too.
      const pending = own.entries();
      const worker = async () => {
        for (let next = pending.next(); !next.done; next = pending.next()) {
          const [key, device] = next.value;
          if (own.get(key) === device) await reannounce(lease, key, device);
        }
      };
      await Promise.all(Array.from({ length: 16 }, worker));
    },
    observe(event) {
      if (event.type !== "Put") return;
      const key = event.kv.key.toString();
      const mine = own.get(key);
      if (mine?.writtenAt === undefined || Number(event.kv.mod_revision) <= mine.writtenAt) return;
      if (event.kv.value.toString() !== mine.value) own.delete(key);
    },
    close() {
      closed = true;
    },
  };
}
