/**
 * Calls outlive the node running them (docs/spec.md §3 "missed exactly once, even if
 * the node that started the ring has died"). When a node leaves, the survivors take
 * its calls over from the call directory: each first takes its own share (rendezvous
 * hashing over the live nodes), then, after a pause, whatever is left. A periodic
 * sweep over the store's overdue ringing calls is the durable backstop: a ringing
 * call whose deadline passed and that no live node runs is taken over and rings out
 * here; a rarer scan of all live calls catches answered calls whose owner is gone
 * without anyone having seen it leave (a whole-cluster or single-node restart).
 * A node whose relay port refuses connections is dead before its lease expires: its ringing
 * calls are rung out here at their deadline instead of one lease TTL later (docs/cluster.md
 * "When a node dies"). Every takeover is a conditional write, and the store's conditional finalize
 * lets exactly one node record the outcome and send the missed-call notification.
 */
import type { Logger } from "pino";
import { isDomainError } from "../domain/errors.ts";
import type { CallService } from "./call-service.ts";
import type { CallDirectory, LiveCall } from "./ports/call-directory.ts";
import type { CallStore } from "./ports/call-store.ts";
import type { Clock, TimerHandle } from "./ports/clock.ts";
import type { Digests } from "./ports/digests.ts";
import type { Peers } from "./ports/peers.ts";
import type { Presence } from "./ports/presence.ts";

/** Collaborators and tunables of the takeover. */
export interface CallTakeoverDeps {
  readonly nodeId: string;
  readonly presence: Pick<Presence, "nodes">;
  readonly directory: CallDirectory;
  readonly store: Pick<CallStore, "listOverdueRinging">;
  readonly calls: Pick<CallService, "adopt" | "runs" | "running" | "forfeit">;
  /** Asked again, at each ringing call's deadline, whether a node that refused a connection still does. */
  readonly peers: Pick<Peers, "refuses">;
  readonly clock: Clock;
  readonly digests: Digests;
  readonly logger: Logger;
  /** How often the overdue sweep runs. */
  readonly sweepIntervalMs: number;
  /** How far past its deadline a ringing call must be before the sweep looks at it. */
  readonly overdueGraceMs: number;
  /** How long after a node left the survivors take whatever of its calls is still unclaimed. */
  readonly secondPassMs: number;
  /** How often every live call is checked for an owner that is gone (e.g. after a whole-cluster restart). */
  readonly orphanScanIntervalMs: number;
}

/** Takeover of calls whose node died. */
export interface CallTakeover {
  /** Takes over the calls of a node that left (this node's share now, leftovers later). */
  nodeLeft(nodeId: string): void;
  /**
   * A connection to `nodeId` was refused: its process is gone although its lease still runs.
   * Each of its ringing calls is taken over at its ring deadline if the node still refuses
   * then, so a missed call is not recorded a lease TTL late; its other calls wait for the lease.
   */
  nodeUnreachable(nodeId: string): void;
  /** One overdue sweep; resolves with the number of calls taken over. */
  sweep(): Promise<number>;
  /** One scan of all live calls for owners that are gone; resolves with the number taken over. */
  scanOrphans(): Promise<number>;
  /**
   * Fencing: drops the calls this node runs that the directory gives to another node (this
   * node was taken for dead, e.g. cut off from etcd, and they were taken over); resolves with
   * the number dropped.
   */
  fence(): Promise<number>;
  /**
   * This node's lease was lost: the others may be taking its calls over. Fences now and again
   * after their leftover pass (`secondPassMs`), instead of waiting for the periodic scan.
   */
  leaseLost(): void;
  /** Starts the periodic sweep. */
  start(): void;
  /** Stops timers. */
  stop(): void;
}

/** The node among `nodes` that should take `callId` over (highest hash wins). */
export function chooseNode(callId: string, nodes: readonly string[], digests: Digests): string | undefined {
  let best: string | undefined;
  let bestScore = "";
  for (const node of nodes) {
    const score = digests.sha1Hex(`${callId}\u0000${node}`);
    if (score > bestScore) [best, bestScore] = [node, score];
  }
  return best;
}

/** Creates the takeover of one node. */
export function createCallTakeover(deps: CallTakeoverDeps): CallTakeover {
  const { nodeId: self, directory, calls, clock, logger } = deps;
  const timers = new Set<TimerHandle>();
  /** Nodes whose ringing calls are being watched for their deadlines (one pass per refusal). */
  const refusing = new Set<string>();
  let sweepTimer: TimerHandle | undefined;
  let stopped = false;

  const liveNodes = async () => (await deps.presence.nodes()).map((n) => n.nodeId);

  async function take(live: LiveCall): Promise<boolean> {
    if (!(await directory.takeOver(live.callId, live.ownerNodeId, self))) return false;
    await calls.adopt({ ...live, ownerNodeId: self });
    return true;
  }

  async function adoptFrom(dead: string, everything: boolean): Promise<void> {
    const nodes = (await liveNodes()).filter((n) => n !== dead);
    let taken = 0;
    for (;;) {
      const batch = await directory.ownedBy(dead, 1_000);
      let progressed = false;
      for (const live of batch) {
        if (!everything && chooseNode(live.callId, nodes, deps.digests) !== self) continue;
        if (await take(live)) taken++;
        progressed = true;
      }
      if (!everything || !progressed || batch.length < 1_000) break;
    }
    if (taken > 0) logger.info({ from: dead, taken, pass: everything ? "leftovers" : "share" }, "took over calls");
  }

  function later(delayMs: number, fn: () => Promise<unknown>): void {
    const timer = clock.setTimer(delayMs, () => {
      timers.delete(timer);
      if (!stopped) fn().catch((err: unknown) => logger.error({ err }, "call takeover failed"));
    });
    timers.add(timer);
  }

  /** Takes `callId` over from `dead` at its ring deadline if `dead` still owns it and still refuses. */
  async function ringOutAtDeadline(dead: string, callId: string): Promise<void> {
    if (!(await deps.peers.refuses(dead))) return;
    const live = await directory.find(callId);
    if (live?.ownerNodeId === dead && (await take(live))) {
      logger.info({ callId, from: dead }, "rang out a call of a node that refuses connections");
    }
  }

  /** A dead node starts no new calls: one listing covers its ringing calls until the last deadline. */
  async function watchRinging(dead: string): Promise<void> {
    let lastMs = 0;
    try {
      for (const live of await directory.ownedBy(dead, 10_000)) {
        if (live.state.phase !== "ringing") continue;
        const { callId, ringDeadlineMs } = live.state.call;
        const inMs = Math.max(0, ringDeadlineMs - clock.now());
        later(inMs, () => ringOutAtDeadline(dead, callId));
        lastMs = Math.max(lastMs, inMs);
      }
    } finally {
      later(lastMs, async () => refusing.delete(dead));
    }
  }

  const takeover: CallTakeover = {
    nodeUnreachable(dead) {
      if (dead === self || refusing.has(dead)) return;
      refusing.add(dead);
      later(0, () => watchRinging(dead));
    },
    nodeLeft(dead) {
      refusing.delete(dead);
      // After this turn, so presence has applied the rest of the departure.
      later(0, () => adoptFrom(dead, false));
      later(deps.secondPassMs, () => adoptFrom(dead, true));
    },
    async sweep() {
      const overdue = await deps.store.listOverdueRinging(clock.now() - deps.overdueGraceMs, 1_000);
      if (overdue.length === 0) return 0;
      const nodes = await liveNodes();
      let taken = 0;
      for (const record of overdue) {
        // Answered calls are the orphan scan's (the listing excludes them; a store that did not is skipped here).
        if (record.answeredDeviceId !== undefined || calls.runs(record.callId)) continue;
        const live = await directory.find(record.callId);
        if (live) {
          if (live.ownerNodeId !== self && nodes.includes(live.ownerNodeId)) continue; // its owner's timer runs
          if (live.ownerNodeId === self) await calls.adopt(live);
          else if (!(await take(live))) continue;
        } else {
          // Recorded but never claimed or already released, and without an outcome: ring it out.
          if (chooseNode(record.callId, nodes, deps.digests) !== self) continue;
          const { caller, calleeUserId, video, startedAtMs, ringDeadlineMs, callId } = record;
          const call = { callId, caller, calleeUserId, video, startedAtMs, ringDeadlineMs };
          await calls.adopt({
            callId,
            ownerNodeId: self,
            state: { phase: "ringing", call, ringing: [], pushed: false },
          });
        }
        taken++;
      }
      if (taken > 0) logger.info({ taken }, "overdue ringing calls taken over");
      return taken;
    },
    async scanOrphans() {
      const nodes = await liveNodes();
      // One node per interval scans the whole directory, so the scan's etcd reads do not grow
      // with the pod count (every node scanning every minute would read it N times).
      if (
        chooseNode(`orphan-scan:${Math.floor(clock.now() / deps.orphanScanIntervalMs)}`, nodes, deps.digests) !== self
      ) {
        return 0;
      }
      let taken = 0;
      for (let after = ""; ; ) {
        const page = await directory.list(after, 500);
        for (const live of page) {
          const gone = live.ownerNodeId !== self && !nodes.includes(live.ownerNodeId);
          if (gone && chooseNode(live.callId, nodes, deps.digests) === self && (await take(live))) taken++;
        }
        if (page.length < 500) break;
        after = page.at(-1)?.callId ?? "";
      }
      if (taken > 0) logger.info({ taken }, "orphaned calls taken over");
      return taken;
    },
    async fence() {
      const running = deps.calls.running();
      // One read of this node's owner index instead of a read per call: only a call missing from
      // it (taken over, released, or claimed while the directory was down) is looked up.
      const owned = await directory.ownedIds(self);
      // The other way round: a call the directory gives to this node that it does not run (a
      // takeover whose adoption failed, e.g. the store was down) is adopted again.
      for (const callId of owned) {
        if (calls.runs(callId)) continue;
        const live = await directory.find(callId);
        if (live?.ownerNodeId !== self) continue;
        await calls.adopt(live);
        logger.info({ callId }, "adopted a call this node owned but did not run");
      }
      let dropped = 0;
      for (const callId of running) {
        if (owned.has(callId)) continue;
        const live = await directory.find(callId);
        if (live && live.ownerNodeId !== self) {
          deps.calls.forfeit(callId);
          dropped++;
        }
      }
      return dropped;
    },
    leaseLost() {
      const fence = async () => {
        const dropped = await takeover.fence();
        if (dropped > 0) logger.warn({ dropped }, "lease was lost: dropped calls other nodes took over");
      };
      later(0, fence);
      later(deps.secondPassMs, fence);
      later(2 * deps.secondPassMs, fence);
    },
    start() {
      let lastScan = clock.now();
      // A store or directory outage fails every sweep: logged when it starts and when it ends.
      let paused: { sinceMs: number; failures: number } | undefined;
      const failed = (err: unknown) => {
        if (!isDomainError(err, "unavailable")) return logger.warn({ err }, "takeover sweep failed");
        if (paused) return void paused.failures++;
        paused = { sinceMs: clock.now(), failures: 1 };
        logger.warn({ reason: err.message }, "takeover sweep paused: store unavailable");
      };
      const worked = () => {
        if (!paused) return;
        logger.info({ failures: paused.failures, pausedForMs: clock.now() - paused.sinceMs }, "takeover sweep resumed");
        paused = undefined;
      };
      const tick = () => {
        sweepTimer = clock.setTimer(deps.sweepIntervalMs, () => {
          if (stopped) return;
          const scan = clock.now() - lastScan >= deps.orphanScanIntervalMs;
          if (scan) lastScan = clock.now();
          takeover
            .sweep()
            .then(() => (scan ? takeover.scanOrphans().then(() => takeover.fence()) : 0))
            .then(worked, failed)
            .finally(() => !stopped && tick());
        });
      };
      tick();
    },
    stop() {
      stopped = true;
      if (sweepTimer) clock.clearTimer(sweepTimer);
      for (const t of timers) clock.clearTimer(t);
      timers.clear();
    },
  };
  return takeover;
}
