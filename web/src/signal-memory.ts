/**
 * What a device remembers of its calls' signaling, so that a `Resync` loses nothing
 * and repeats nothing (proto: `Resync`, `ClientMessage.resend_of`,
 * `ServerEvent.origin_command_id`). When a node holding a session or running a call
 * fails, events it had accepted but not delivered are gone with it; the server then
 * asks both participants to resync: each sends again every description, ICE candidate
 * and ICE restart it sent in the call, and each applies only the signals it has not
 * applied yet. Pure and transport-free: the web app and the test devices share it.
 */

/** A signal this device sent: the id of the command that first sent it, and what it sent. */
export interface SentSignal<T> {
  readonly commandId: string;
  readonly signal: T;
}

/** Per-call memory of sent and applied signals. */
export interface SignalMemory<T> {
  /** Records a signal sent in `callId` under the id of the command that first sent it. */
  sent(callId: string, commandId: string, signal: T): void;
  /** The signals sent in `callId`, oldest first: what to send again after a resync. */
  toResend(callId: string): readonly SentSignal<T>[];
  /**
   * True the first time a relayed signal of `callId` with this origin command id
   * arrives, false for a repeat (a signal without an id is always new).
   */
  fresh(callId: string, originCommandId: string): boolean;
  /** The origin command ids applied in `callId`, oldest first (to carry across a page reload). */
  applied(callId: string): readonly string[];
  /** Marks ids as applied (from `applied` before a page reload), so their resends are dropped. */
  restore(callId: string, appliedIds: readonly string[]): void;
  /** Forgets a call that ended. */
  forget(callId: string): void;
}

/** Bounds of the memory. */
export interface SignalMemoryOptions {
  /** Signals kept per call and direction (the server accepts at most 200 candidates per call). */
  readonly maxPerCall?: number;
  /** Calls remembered; the oldest is forgotten beyond it. */
  readonly maxCalls?: number;
}

interface CallMemory<T> {
  readonly sent: SentSignal<T>[];
  readonly applied: Set<string>;
}

/** Creates an empty memory. */
export function createSignalMemory<T>(options: SignalMemoryOptions = {}): SignalMemory<T> {
  const maxPerCall = options.maxPerCall ?? 512;
  const maxCalls = options.maxCalls ?? 8;
  const calls = new Map<string, CallMemory<T>>();

  function of(callId: string): CallMemory<T> {
    let m = calls.get(callId);
    if (!m) {
      m = { sent: [], applied: new Set() };
      calls.set(callId, m);
      if (calls.size > maxCalls) calls.delete(calls.keys().next().value as string);
    }
    return m;
  }

  return {
    sent(callId, commandId, signal) {
      const m = of(callId);
      if (m.sent.some((s) => s.commandId === commandId)) return;
      m.sent.push({ commandId, signal });
      if (m.sent.length > maxPerCall) m.sent.shift();
    },
    toResend: (callId) => [...(calls.get(callId)?.sent ?? [])],
    fresh(callId, originCommandId) {
      if (!originCommandId) return true;
      const { applied } = of(callId);
      if (applied.has(originCommandId)) return false;
      applied.add(originCommandId);
      if (applied.size > maxPerCall) applied.delete(applied.values().next().value as string);
      return true;
    },
    applied: (callId) => [...(calls.get(callId)?.applied ?? [])],
    restore(callId, appliedIds) {
      const { applied } = of(callId);
      for (const id of appliedIds.slice(-maxPerCall)) applied.add(id);
    },
    forget(callId) {
      calls.delete(callId);
    },
  };
}
