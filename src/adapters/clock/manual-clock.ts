import type { Clock, TimerHandle } from "../../app/ports/clock.ts";

/** A clock that moves only when told: for tests of timeouts and grace periods without sleeping. */
export interface ManualClock extends Clock {
  /** Moves time forward, firing due timers in deadline order. */
  advance(ms: number): void;
  /** Timers not yet fired or cleared. */
  pending(): number;
  /**
   * A clock for one node of a multi-node test: the same time and timer queue (timers of all
   * nodes fire in one deadline order), and `halt` for when the node dies.
   */
  scope(): ScopedClock;
}

/** One node's view of a manual clock. */
export interface ScopedClock extends Clock {
  /** The node died: its pending timers are dropped and new ones never fire. */
  halt(): void;
}

interface Timer {
  readonly at: number;
  readonly fn: () => void;
  readonly scope: object | undefined;
}

/** Creates a manual clock starting at `startMs`. */
export function createManualClock(startMs = 1_700_000_000_000): ManualClock {
  let now = startMs;
  let nextId = 0;
  const timers = new Map<number, Timer>();
  const add = (delayMs: number, fn: () => void, scope?: object) => {
    const id = nextId++;
    timers.set(id, { at: now + Math.max(0, delayMs), fn, scope });
    return id as unknown as TimerHandle;
  };
  const clearTimer = (handle: TimerHandle) => {
    timers.delete(handle as unknown as number);
  };
  return {
    now: () => now,
    setTimer: (delayMs, fn) => add(delayMs, fn),
    clearTimer,
    advance(ms) {
      const until = now + ms;
      for (;;) {
        let due: [number, Timer] | undefined;
        for (const entry of timers) if (entry[1].at <= until && (!due || entry[1].at < due[1].at)) due = entry;
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = until;
    },
    pending: () => timers.size,
    scope() {
      const tag = {};
      let halted = false;
      return {
        now: () => now,
        setTimer: (delayMs, fn) => (halted ? (-1 as unknown as TimerHandle) : add(delayMs, fn, tag)),
        clearTimer,
        halt() {
          halted = true;
          for (const [id, t] of timers) if (t.scope === tag) timers.delete(id);
        },
      };
    },
  };
}
