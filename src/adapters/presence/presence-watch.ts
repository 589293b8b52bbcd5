import type { Etcd3, IEvent, IWatchResponse, Watcher } from "etcd3";
import type { Logger } from "pino";
import type { PresenceMetrics } from "./presence-metrics.ts";

/** Options of `startPresenceWatch`. */
export interface PresenceWatchOptions {
  readonly client: Etcd3;
  readonly prefix: string;
  /** First revision to deliver (the revision of the initial snapshot + 1). */
  readonly fromRevision: number;
  /** One batch of changes in revision order. Must not throw. */
  readonly onEvents: (events: readonly IEvent[]) => void;
  /** The watch cannot resume (e.g. history compacted): rebuild state, return the new snapshot's revision. */
  readonly resync: () => Promise<number>;
  readonly logger: Logger;
  readonly metrics: PresenceMetrics;
}

/** A prefix watch with previous values that survives etcd restarts and compaction. */
export interface PresenceWatch {
  close(): Promise<void>;
}

/**
 * Watches `prefix` from `fromRevision`. etcd3 reconnects a dropped watch by itself; we
 * make it resume right after the last change we saw (etcd3 would otherwise resume from
 * the revision of its last "created" reply, which can skip changes still in flight). A
 * watch that etcd cancels (compacted history) is replaced after `resync`.
 */
export function startPresenceWatch(options: PresenceWatchOptions): PresenceWatch {
  const { client, prefix, onEvents, resync, logger, metrics } = options;
  /** Every change at or below this revision has been delivered. */
  let delivered = options.fromRevision - 1;
  let watcher: Watcher | undefined;
  let closed = false;

  const advance = (revision: number) => {
    delivered = Math.max(delivered, revision);
  };

  const open = (from: number) => {
    const w = client.watch().prefix(prefix).withPreviousKV().startRevision(String(from)).watcher();
    watcher = w;
    let interrupted = false;
    w.on("data", (res: IWatchResponse) => {
      if (w !== watcher) return;
      try {
        onEvents(res.events);
      } catch (error) {
        logger.error({ err: error }, "presence watch handler failed");
      }
      // With events, the last one's revision; an empty (progress) reply covers its header revision.
      const last = res.events.at(-1);
      advance(Number(last ? last.kv.mod_revision : res.header.revision));
    });
    w.on("disconnected", (error: Error) => {
      if (w !== watcher || closed) return;
      metrics.etcdErrors.inc({ operation: "watch" });
      // etcd3 retries with backoff; report the first failure of an outage, not every retry.
      if (!interrupted) logger.warn({ err: error }, "presence watch disconnected; reconnecting");
      interrupted = true;
      // Resume exactly after what we delivered (see the doc comment above).
      (w.request as { start_revision?: string }).start_revision = String(delivered + 1);
    });
    w.on("connected", () => {
      if (w !== watcher) return;
      (w.request as { start_revision?: string }).start_revision = String(delivered + 1);
      if (interrupted) logger.info({ revision: delivered }, "presence watch resumed");
      interrupted = false;
    });
    w.on("error", (error: Error) => {
      if (w !== watcher || closed) return;
      logger.warn({ err: error }, "presence watch cancelled by etcd; rebuilding the cache");
      void recover();
    });
  };

  const recover = async () => {
    watcher = undefined;
    metrics.watchResyncs.inc();
    for (let attempt = 0; !closed; attempt++) {
      try {
        const revision = await resync();
        if (closed) return;
        advance(revision);
        open(revision + 1);
        return;
      } catch (error) {
        metrics.etcdErrors.inc({ operation: "watch" });
        logger[attempt === 0 ? "warn" : "debug"]({ err: error, attempt }, "presence resync failed; retrying");
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 2_000)).unref());
      }
    }
  };

  open(options.fromRevision);
  return {
    async close() {
      closed = true;
      const w = watcher;
      watcher = undefined;
      if (!w) return;
      // cancel() waits for etcd's confirmation; do not hang on a dead connection.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        w.cancel().catch(() => {}),
        new Promise((r) => {
          timer = setTimeout(r, 1_000);
        }),
      ]);
      clearTimeout(timer);
    },
  };
}
