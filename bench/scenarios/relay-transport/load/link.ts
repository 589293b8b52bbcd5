/** Callbacks of one device's stream: what the peer relayed to it, or trouble. */
export type LinkHandlers = {
  onOffer(): void;
  onAnswer(): void;
  onError(text: string): void;
};

/** One device's open stream to the relay (a gRPC bidi call or a PeerJS WebSocket). */
export type Link = {
  sendOffer(): void;
  sendAnswer(): void;
  /** Ends the stream gracefully; resolves when the server has closed its side (or after a timeout). */
  close(): Promise<void>;
};

/** Opens device streams to one server; `open` resolves once the server has registered the device. */
export type Transport = {
  open(ids: { deviceId: string; peerId: string; callId: string }, handlers: LinkHandlers): Promise<Link>;
};

/** Rejects with `what` after `ms` unless `promise` settles first. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
