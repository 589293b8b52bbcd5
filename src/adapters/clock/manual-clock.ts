import type { Clock, TimerHandle } from "../../app/ports/clock.ts";

/** A clock that moves only when told: for tests of timeouts and grace periods without sleeping. */
export interface ManualClock extends Clock {
  /** Moves time forward, firing due timers in deadline order. */
  advance(ms: number): void;
  /** Timers not yet fired or cleared. */
  pending(): number;
}

/** Creates a manual clock starting at `startMs`. */
export function createManualClock(startMs = 1_700_000_000_000): ManualClock {
  let now = startMs;
  let nextId = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimer(delayMs, fn) {
      const id = nextId++;
      timers.set(id, { at: now + Math.max(0, delayMs), fn });
      return id as unknown as TimerHandle;
    },
    clearTimer(handle) {
      timers.delete(handle as unknown as number);
    },
    advance(ms) {
      const until = now + ms;
      for (;;) {
        let due: [number, { at: number; fn: () => void }] | undefined;
        for (const entry of timers) if (entry[1].at <= until && (!due || entry[1].at < due[1].at)) due = entry;
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = until;
    },
    pending: () => timers.size,
  };
}
