/**
 * Getting the media of a connected call back when its path dies (e.g. a network change):
 * the caller restarts ICE (new credentials and candidates, answered by the callee like any
 * offer) after a short wait and again while the media stays down; either side gives up and
 * reports the call failed if it is not back soon. When the other side's connection closed
 * (its page reloaded or closed: DTLS close), no ICE restart can help: only that side's fresh
 * connection can, so recovery then just waits for it (and gives up the same way). Timing
 * only: the caller of this module does the restart, the reports and the status line.
 */

/** How long the media may stay disconnected before the caller restarts ICE, and between restarts. */
const ICE_RESTART_AFTER_MS = 2_000;
const ICE_RESTART_RETRY_MS = 5_000;
/** How long the media may stay down before the call fails. */
const GIVE_UP_MS = 20_000;

/** What recovery does, supplied by the call flow. */
export interface MediaRecoveryActions {
  /** Whether this device restarts ICE (the caller; the callee answers the restart offer). */
  readonly restarts: boolean;
  /** The media just went down (report "disconnected"). */
  down(): void;
  /** Restart ICE now. */
  restartIce(): void;
  /** The media stayed down too long (report "failed"; the server ends the call). */
  giveUp(): void;
}

/** The recovery of one call. */
export interface MediaRecovery {
  /**
   * The connection went disconnected or failed, or `closed`: the other side closed its end
   * (no ICE restarts until the media is back: that side comes back with a fresh connection).
   */
  lost(state: "disconnected" | "failed" | "closed"): void;
  /** The connection is back: returns true when it had been lost (and stops recovering). */
  back(): boolean;
  /** ICE restarts started so far. */
  restartCount(): number;
  /** Stops the timers (the call ended). */
  stop(): void;
}

/** Creates the recovery of one connected call. */
export function createMediaRecovery(actions: MediaRecoveryActions): MediaRecovery {
  let lostAtMs: number | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let restarts = 0;
  let peerClosed = false;

  const next = () => {
    timer = undefined;
    if (lostAtMs === undefined) return;
    if (Date.now() - lostAtMs >= GIVE_UP_MS) return actions.giveUp();
    if (actions.restarts && !peerClosed) {
      restarts += 1;
      actions.restartIce();
    }
    timer = setTimeout(next, ICE_RESTART_RETRY_MS);
  };

  return {
    lost(state) {
      if (lostAtMs === undefined) {
        lostAtMs = Date.now();
        actions.down();
      }
      if (state === "closed") peerClosed = true;
      if (timer === undefined) timer = setTimeout(next, state === "failed" ? 0 : ICE_RESTART_AFTER_MS);
    },
    back() {
      if (lostAtMs === undefined) return false;
      clearTimeout(timer);
      timer = undefined;
      lostAtMs = undefined;
      peerClosed = false;
      return true;
    },
    restartCount: () => restarts,
    stop() {
      clearTimeout(timer);
      timer = undefined;
      lostAtMs = undefined;
    },
  };
}
