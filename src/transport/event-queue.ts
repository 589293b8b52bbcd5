/**
 * The bridge from a session (push) to a response stream (pull): events queue up
 * until the stream's generator takes them, and the transport takes the next one only
 * once the stream is writable again, so the queue is what a slow reader is behind by.
 * A stream that falls `maxQueued` live events behind is closed (its session stays
 * resumable, and holds those events for replay: session-hub.ts), so a stuck client
 * cannot grow the server's memory without bound. The replay a resumed stream starts
 * with does not count against the bound: it is paced by the stream like any event.
 */
import type { SessionEvent } from "../app/session-events.ts";
import type { SessionSink } from "../app/session-hub.ts";
import { DomainError } from "../domain/errors.ts";

/** A sink for the hub and the iterable for the transport. */
export interface EventQueue {
  readonly sink: SessionSink;
  readonly events: AsyncIterable<SessionEvent>;
  /**
   * The session is open: the events queued until now (session_ready and the replay) do not
   * count against the bound, the ones pushed from now on do.
   */
  replayed(): void;
}

/** Creates a queue holding at most `maxQueued` undelivered events. */
export function createEventQueue(maxQueued: number): EventQueue {
  const queued: SessionEvent[] = [];
  let closed: { error?: DomainError } | undefined;
  let wake: (() => void) | undefined;
  let replay = Number.POSITIVE_INFINITY; // the first `replay` queued events are exempt from the bound
  const sink: SessionSink = {
    push(event) {
      if (closed) return;
      if (queued.length - replay >= maxQueued) {
        sink.close(new DomainError("limit_exceeded", "client is not reading its stream; resume to catch up"));
        return;
      }
      queued.push(event);
      wake?.();
    },
    close(error) {
      if (closed) return;
      closed = error ? { error } : {};
      wake?.();
    },
  };
  const events: AsyncIterable<SessionEvent> = {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const next = queued.shift();
        if (next) {
          replay = Math.max(0, replay - 1);
          yield next;
          continue;
        }
        if (closed) {
          if (closed.error) throw closed.error;
          return;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    },
  };
  return {
    sink,
    events,
    replayed() {
      replay = queued.length;
    },
  };
}
