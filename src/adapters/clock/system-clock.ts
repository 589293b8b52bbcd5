import type { Clock, TimerHandle } from "../../app/ports/clock.ts";

/** The real clock: Date.now and Node timers (unref'd so they never hold the process open). */
export function createSystemClock(): Clock {
  return {
    now: () => Date.now(),
    setTimer(delayMs, fn) {
      const t = setTimeout(fn, Math.max(0, delayMs));
      t.unref();
      return t as unknown as TimerHandle;
    },
    clearTimer(handle) {
      clearTimeout(handle as unknown as NodeJS.Timeout);
    },
  };
}
