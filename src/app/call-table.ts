/**
 * The calls one node runs, by id: the ones being created or taken over (lookups wait for
 * them), the count of live ones, and ended ones kept a while to answer late reports and retries.
 */
import { DomainError } from "../domain/errors.ts";
import type { CallEntry } from "./call-effects.ts";
import type { Clock } from "./ports/clock.ts";
import type { Metrics } from "./ports/metrics.ts";

/** Collaborators of the table. */
export interface CallTableDeps {
  readonly clock: Clock;
  readonly metrics: Pick<Metrics, "callsActive">;
  /** How long an ended call stays to answer late reports and retries. */
  readonly lingerMs: number;
}

/** This node's calls. */
export interface CallTable {
  get(callId: string): CallEntry | undefined;
  /** The call once its creation or takeover is done; not_found when this node does not run it. */
  entryOf(callId: string): Promise<CallEntry>;
  /** Whether the call is here or on its way. */
  has(callId: string): boolean;
  /** The creation or takeover of `callId` under way, if any. */
  pending(callId: string): Promise<void> | undefined;
  /** Marks `callId` as on its way while `work` runs, so lookups wait for it. */
  creating<T>(callId: string, work: () => Promise<T>): Promise<T>;
  /** Holds a new call; one that is not ended counts as live, an ended one lingers. */
  add(e: CallEntry): void;
  /** A live call ended: its timers and participants go, and it lingers. */
  release(e: CallEntry): void;
  /** A live call another node runs now: dropped at once, without any effect. */
  drop(e: CallEntry): void;
  /** The calls held, ended ones included. */
  entries(): IterableIterator<CallEntry>;
  /** Ids of the calls that have not ended. */
  running(): string[];
  /** Calls ringing or in progress. */
  activeCount(): number;
}

/** Creates an empty table. */
export function createCallTable(deps: CallTableDeps): CallTable {
  const { clock, metrics } = deps;
  const calls = new Map<string, CallEntry>();
  const pending = new Map<string, Promise<void>>();
  let live = 0;

  function linger(callId: string): void {
    clock.setTimer(deps.lingerMs, () => calls.delete(callId));
  }

  function stop(e: CallEntry): void {
    for (const handle of e.timers.values()) clock.clearTimer(handle);
    e.timers.clear();
    e.parts.dispose();
    metrics.callsActive.set(--live);
  }

  return {
    get: (callId) => calls.get(callId),
    async entryOf(callId) {
      await pending.get(callId);
      const e = calls.get(callId);
      if (!e) throw new DomainError("not_found", "no such call");
      return e;
    },
    has: (callId) => calls.has(callId) || pending.has(callId),
    pending: (callId) => pending.get(callId),
    async creating(callId, work) {
      const p = work();
      const done = p.then(
        () => {},
        () => {},
      );
      pending.set(callId, done);
      try {
        return await p;
      } finally {
        if (pending.get(callId) === done) pending.delete(callId);
      }
    },
    add(e) {
      const { callId } = e.state.call;
      calls.set(callId, e);
      if (e.state.phase !== "ended") metrics.callsActive.set(++live);
      else linger(callId);
    },
    release(e) {
      stop(e);
      linger(e.state.call.callId);
    },
    drop(e) {
      stop(e);
      calls.delete(e.state.call.callId);
    },
    entries: () => calls.values(),
    running: () => [...calls].flatMap(([id, e]) => (e.state.phase === "ended" ? [] : [id])),
    activeCount: () => live,
  };
}
