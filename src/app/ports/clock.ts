/** Time as a port: production uses the system clock, tests a manual one. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` once after `delayMs`; returns a handle for `clear`. */
  setTimer(delayMs: number, fn: () => void): TimerHandle;
  /** Cancels a timer; a no-op for one that already fired. */
  clearTimer(handle: TimerHandle): void;
}

/** An opaque timer handle. */
export interface TimerHandle {
  readonly __timer: unique symbol;
}
