import { create, type MessageInitShape } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  type ClientMessageSchema,
  type ConnectRequest,
  ConnectRequestSchema,
  type ConnectResponse,
  type ServerEvent,
  SignalService,
} from "../../../gen/calldrop/v1/signal_pb.js";
import { grpcServiceDefinition } from "../relay-transport/grpc-definition.ts";
import { withTimeout } from "../relay-transport/load/link.ts";

/** The oneof of a client command as an init shape (`{ case: "startCall", value: { calleeUserId } }`). */
export type CommandKind = NonNullable<MessageInitShape<typeof ClientMessageSchema>["kind"]>;

/** One mobile device connected to the full server: a grpc-js channel and one `Connect` bidi stream. */
export type Device = {
  readonly userId: string;
  readonly deviceId: string;
  /** Sends a command; returns its command id (the result arrives as a `commandResult` event). */
  send(kind: CommandKind): string;
  /** Ends the stream gracefully and closes the channel (bounded by a timeout). */
  close(): Promise<void>;
};

/** What a device reports back to its owner. */
export type DeviceHandlers = {
  /** Every event after `sessionReady`, in stream order. */
  onEvent(event: ServerEvent): void;
  /** A stream error (not one caused by `close`). */
  onError(text: string): void;
};

const method = grpcServiceDefinition(SignalService).connect;
let commands = 0;

/**
 * Connects like the mobile app does: own HTTP/2 connection (channel with a local subchannel
 * pool), bearer token in metadata, `hello` first; resolves at `sessionReady`.
 */
export async function connectDevice(
  target: { port: number; token: string; userId: string; deviceId: string },
  handlers: DeviceHandlers,
  openTimeoutMs = 20_000,
): Promise<Device> {
  if (!method) throw new Error("SignalService has no connect method");
  const client = new grpc.Client(`127.0.0.1:${target.port}`, grpc.credentials.createInsecure(), {
    "grpc.use_local_subchannel_pool": 1,
  });
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${target.token}`);
  const call = client.makeBidiStreamRequest<ConnectRequest, ConnectResponse>(
    method.path,
    method.requestSerialize,
    method.responseDeserialize,
    metadata,
  );
  let closing = false;
  let ready: (() => void) | undefined;
  let failed: ((e: Error) => void) | undefined;
  const readyPromise = new Promise<void>((resolve, reject) => {
    ready = resolve;
    failed = reject;
  });
  const ended = new Promise<void>((resolve) => call.on("status", () => resolve()));
  call.on("data", (response: ConnectResponse) => {
    const event = response.event;
    if (!event) return;
    if (event.kind.case === "sessionReady" && ready) {
      ready();
      ready = undefined;
      return;
    }
    handlers.onEvent(event);
  });
  call.on("error", (e: grpc.ServiceError) => {
    if (ready) failed?.(new Error(`${target.userId}/${target.deviceId}: ${e.message}`));
    else if (!closing) handlers.onError(`${target.userId}: ${e.message}`);
  });
  const send = (kind: CommandKind) => {
    const commandId = `c${++commands}`;
    call.write(create(ConnectRequestSchema, { message: { commandId, kind } }));
    return commandId;
  };
  send({ case: "hello", value: { deviceId: target.deviceId } });
  try {
    await withTimeout(readyPromise, openTimeoutMs, `${target.userId} hello`);
  } catch (e) {
    closing = true;
    call.cancel();
    client.close();
    throw e;
  }
  return {
    userId: target.userId,
    deviceId: target.deviceId,
    send,
    async close() {
      closing = true;
      call.end();
      await withTimeout(ended, 5000, `${target.userId} close`).catch(() => call.cancel());
      client.close();
    },
  };
}

/**
 * Runs `fn` over `items` with at most `concurrency` in flight; failures go to `onError` and are
 * left out. Resolves with the successful results (order not kept).
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<R>,
  onError: (text: string) => void,
): Promise<R[]> {
  const out: R[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        out.push(await fn(item));
      } catch (e) {
        onError((e as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}
