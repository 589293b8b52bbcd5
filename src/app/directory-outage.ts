/**
 * Running calls while the call directory cannot be reached (docs/cluster.md "etcd down"):
 * a start between users this node can locate goes ahead on what this node knows, its claim
 * is written once the directory is back, and no command waits more than a bounded time for
 * a directory write. The price, only during an outage: busy and glare are decided among the
 * calls of this node alone, and a node that dies meanwhile leaves the last phase changes of
 * its calls unwritten (a taking-over node sees an older phase).
 */
import type { Logger } from "pino";
import type { CallState } from "../domain/call-types.ts";
import { claimConflict } from "../domain/call-waiting.ts";
import { isDomainError } from "../domain/errors.ts";
import type { CallDirectory, ClaimResult, LiveCall } from "./ports/call-directory.ts";
import type { Clock } from "./ports/clock.ts";

/** How long a command waits for its directory write before it is answered anyway (the signaling target, §12). */
export const DIRECTORY_WAIT_MS = 1_000;
/** Longest pause between attempts to write a deferred claim. */
const MAX_RETRY_MS = 5_000;
/** How long a deferred claim is retried (as long as the etcd adapter retries a phase change). */
const CLAIM_RETRY_MS = 60_000;

/** True when `err` says the directory cannot be reached now. */
export const isDirectoryOutage = (err: unknown) => isDomainError(err, "unavailable");

/** The live call of `userId` among `states` (the calls this node runs), as the directory would list it. */
export function localLiveCall(
  states: Iterable<CallState>,
  userId: string,
  ownerNodeId: string,
  exceptCallId?: string,
): LiveCall | undefined {
  for (const state of states) {
    if (state.phase === "ended" || state.call.callId === exceptCallId) continue;
    if (state.call.caller.userId === userId || state.call.calleeUserId === userId) {
      return { callId: state.call.callId, ownerNodeId, state };
    }
  }
  return undefined;
}

/** The claim the directory would make, decided among `states` (the calls this node runs). */
export function localClaim(
  states: readonly CallState[],
  claim: Extract<CallState, { phase: "ringing" }>,
  ownerNodeId: string,
): ClaimResult {
  const { callId, caller, calleeUserId } = claim.call;
  const live = (userId: string) =>
    [...states].flatMap((state): LiveCall[] =>
      state.call.callId !== callId && (state.call.caller.userId === userId || state.call.calleeUserId === userId)
        ? [{ callId: state.call.callId, ownerNodeId, state }]
        : [],
    );
  const conflict = claimConflict(claim, live(caller.userId), live(calleeUserId));
  return conflict ? { ok: false, ...conflict } : { ok: true };
}

/** How long commands wait for directory writes, as the directory has lately behaved. */
export interface DirectoryWaits {
  /**
   * Waits for `write` at most `DIRECTORY_WAIT_MS`, or not at all while the directory is known
   * to be down: resolves when it lands or when the time is up (the write goes on in the
   * background), rejects when it fails before that.
   */
  acknowledge(write: Promise<void>): Promise<void>;
  /** The directory failed to answer: later writes are not waited for until one lands. */
  down(): void;
}

/** Creates the waits of one call service. */
export function createDirectoryWaits(clock: Clock): DirectoryWaits {
  let down = false;
  return {
    acknowledge(write) {
      const landed = write.then(() => {
        down = false;
      });
      if (down) {
        landed.catch(() => {}); // logged by the write itself
        return Promise.resolve();
      }
      return new Promise((resolve, reject) => {
        const timer = clock.setTimer(DIRECTORY_WAIT_MS, () => {
          down = true;
          resolve();
        });
        landed.then(
          () => {
            clock.clearTimer(timer);
            resolve();
          },
          (err: unknown) => {
            clock.clearTimer(timer);
            reject(err);
          },
        );
      });
    },
    down() {
      down = true;
    },
  };
}

/**
 * Writes the claim of a call started during an outage, retrying with backoff until the
 * directory answers (for up to a minute). A conflict (another node started a call with one
 * of these users meanwhile), or an outage longer than that, leaves this call unlisted: it
 * runs to its end, and its later directory writes are no-ops.
 */
export async function claimWhenBack(
  deps: { readonly directory: CallDirectory; readonly clock: Clock; readonly logger: Logger },
  state: Extract<CallState, { phase: "ringing" }>,
  ownerNodeId: string,
): Promise<void> {
  const { directory, clock, logger } = deps;
  const { callId } = state.call;
  const deadline = clock.now() + CLAIM_RETRY_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await directory.claim(state, ownerNodeId);
      if (!result.ok)
        logger.warn({ callId }, "call started during a directory outage conflicts with another; unlisted");
      else logger.info({ callId, attempts: attempt + 1 }, "call started during a directory outage is listed");
      return;
    } catch (err) {
      if (!isDirectoryOutage(err)) throw err;
      if (clock.now() > deadline) {
        logger.warn(
          { callId },
          "call started during a directory outage stays unlisted: the outage outlasted its retries",
        );
        return;
      }
      const pause = Math.min(200 * 2 ** attempt, MAX_RETRY_MS);
      await new Promise<void>((resolve) => clock.setTimer(pause, resolve));
    }
  }
}
