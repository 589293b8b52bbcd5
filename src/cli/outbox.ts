/** The CLI's outgoing messages: a queue feeding the bidi request stream until it is closed. */
import { create } from "@bufbuild/protobuf";
import { type ClientMessage, ClientMessageSchema, type ConnectRequest } from "../../gen/calldrop/v1/signal_pb.js";

/** Messages to send, in order, each with a fresh command id. */
export interface Outbox {
  /** Queues one message. */
  send(kind: ClientMessage["kind"]): void;
  /** The request stream: every queued message, waiting for more until `close`. */
  requests(): AsyncGenerator<ConnectRequest>;
  /** Ends the request stream once the queue is empty. */
  close(): void;
}

/** Creates an outbox whose command ids are `${prefix}-<ms>-<n>`. */
export function createOutbox(prefix: string, now: () => number = Date.now): Outbox {
  const queue: ConnectRequest[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  let sent = 0;
  return {
    send(kind) {
      const message = create(ClientMessageSchema, { commandId: `${prefix}-${now()}-${++sent}`, kind });
      queue.push({ $typeName: "calldrop.v1.ConnectRequest", message });
      wake?.();
    },
    async *requests() {
      for (;;) {
        const next = queue.shift();
        if (next) yield next;
        else if (closed) return;
        else await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    close() {
      closed = true;
      wake?.();
    },
  };
}
