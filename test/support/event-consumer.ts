/**
 * A consumer of CallEventsService.Subscribe in tests (docs/spec.md §9 "Call events"): reads a
 * stream in the background and keeps what it got, so a test waits for states ("the ended event
 * of this call arrived", "a heartbeat came after it") and can kill the consumer at any point.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { createClient, type Transport } from "@connectrpc/connect";
import {
  type CallEvent,
  CallEventsService,
  type SubscribeRequestSchema,
} from "../../gen/calldrop/internal/v1/events_pb.js";
import { waitFor } from "./wait-for.ts";

/** A running subscription. */
export interface EventConsumer {
  /** The events received, in order. */
  readonly events: CallEvent[];
  /** The cursor of the last message received. */
  cursor(): string;
  /** Messages received (events and heartbeats). */
  received(): number;
  /** Resolves with the first received event matching `where` (waiting for it). */
  event(where: (e: CallEvent) => boolean, what: string, timeoutMs?: number): Promise<CallEvent>;
  /** Resolves once a heartbeat arrived after the message count `after`: everything logged before was read. */
  heartbeatAfter(after: number, timeoutMs?: number): Promise<void>;
  /** The error that ended the stream, once it ended. */
  ended(): Promise<unknown>;
  /** The consumer dies: the stream is cancelled. */
  kill(): void;
}

/** Subscribes with `request` over `transport` as `token`; resolves once the first message (a heartbeat) arrived. */
export async function subscribeEvents(
  transport: Transport,
  token: string,
  request: MessageInitShape<typeof SubscribeRequestSchema>,
): Promise<EventConsumer> {
  const client = createClient(CallEventsService, transport);
  const abort = new AbortController();
  const events: CallEvent[] = [];
  let cursor = "";
  let received = 0;
  let lastHeartbeat = -1;
  const ended = (async () => {
    try {
      for await (const r of client.subscribe(request, {
        headers: { authorization: `Bearer ${token}` },
        signal: abort.signal,
      })) {
        received++;
        cursor = r.cursor;
        if (r.event) events.push(r.event);
        else lastHeartbeat = received;
      }
      return undefined;
    } catch (err) {
      return err;
    }
  })();
  await Promise.race([
    waitFor(() => received > 0, { what: "the first message of the event stream" }),
    ended.then((err) => Promise.reject(err ?? new Error("the event stream ended before its first message"))),
  ]);
  return {
    events,
    cursor: () => cursor,
    received: () => received,
    event: (where, what, timeoutMs) =>
      waitFor(() => events.find(where), { what, timeoutMs, state: () => events.map((e) => e.eventId) }),
    async heartbeatAfter(after, timeoutMs) {
      await waitFor(() => lastHeartbeat > after, { what: `a heartbeat after message ${after}`, timeoutMs });
    },
    ended: () => ended,
    kill: () => abort.abort(),
  };
}
