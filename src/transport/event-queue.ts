/**
 * The bridge from a session (push) to a response stream (pull): events queue up
 * until the stream's generator takes them. A stream that falls `maxQueued` events
 * behind is closed (its session stays resumable), so a stuck client cannot grow
 * the server's memory without bound.
 */
import type { SessionEvent } from "../app/session-events.ts";
import type { SessionSink } from "../app/session-hub.ts";
import { DomainError } from "../domain/errors.ts";

/** A sink for the hub and the iterable for the transport. */
export interface EventQueue {
  readonly sink: SessionSink;
  readonly events: AsyncIterable<SessionEvent>;
}

/** Creates a queue holding at most `maxQueued` undelivered events. */
export function createEventQueue(maxQueued: number): EventQueue {
  const queued: SessionEvent[] = [];
  let closed: { error?: DomainError } | undefined;
  let wake: (() => void) | undefined;
  const sink: SessionSink = {
    push(event) {
      if (closed) return;
      if (queued.length >= maxQueued) {
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
  return { sink, events };
}
