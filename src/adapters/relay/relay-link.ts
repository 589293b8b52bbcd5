import { randomUUID } from "node:crypto";
import { Client, type ClientDuplexStream, credentials, Metadata, type StatusObject, status } from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { RelayRequest, RelayResponse } from "../../../gen/calldrop/internal/v1/relay_pb.js";
import type { Clock } from "../../app/ports/clock.ts";
import { assertRelaySecret, RELAY_HEADERS, signRelayToken } from "./relay-auth.ts";
import { type RelayBody, relayChannelOptions, relayFrame, relayMethod } from "./relay-grpc.ts";
import type { RelayMetrics } from "./relay-metrics.ts";

/** Thrown by `send` when the link already holds its maximum of unacknowledged frames. */
export class RelayQueueFullError extends Error {
  readonly peerNodeId: string;
  readonly limit: number;
  constructor(peerNodeId: string, limit: number) {
    super(`relay queue to node ${peerNodeId} is full (${limit} unacknowledged frames)`);
    this.name = "RelayQueueFullError";
    this.peerNodeId = peerNodeId;
    this.limit = limit;
  }
}

/** The outbound link from this node to one peer node: one stream, sequenced and acknowledged. */
export interface RelayLink {
  readonly peerNodeId: string;
  /** Unique per link (per sender incarnation): the receiver restarts its sequence on a new one. */
  readonly linkId: string;
  /** Queues a frame and returns its seq; throws RelayQueueFullError when full (the frame is not queued). */
  send(body: RelayBody): number;
  /** Frames sent and not yet acknowledged. */
  unacked(): number;
  /** Resolves once every frame sent so far is acknowledged (or the link is closed). */
  drained(): Promise<void>;
  /** Ends the stream and discards unacknowledged frames; returns how many were discarded. */
  close(): number;
}

/** Options of `createRelayLink`. */
export interface RelayLinkOptions {
  readonly selfNodeId: string;
  readonly peerNodeId: string;
  /** The peer's internal host:port, asked again before every (re)connect; undefined while unknown. */
  readonly resolveAddress: () => string | undefined | Promise<string | undefined>;
  /** The cluster's shared relay secret. */
  readonly secret: string;
  /** Bound of the unacknowledged queue. Default 10 000. */
  readonly maxUnacked?: number;
  /** Reconnect backoff, doubling from `initialMs` to `maxMs`. Default 100 ms → 2 s. */
  readonly reconnectDelay?: { readonly initialMs: number; readonly maxMs: number };
  readonly clock: Pick<Clock, "now">;
  readonly logger: Logger;
  readonly metrics: RelayMetrics;
}

interface Pending {
  readonly seq: number;
  readonly frame: RelayRequest;
  readonly queuedAt: number;
  /** Written on some stream already: sending it again counts as a resend. */
  written: boolean;
}

/**
 * Creates a link; it connects on the first frame. Frames are written at once while the
 * stream is up and kept until acknowledged; after a stream failure the link reconnects
 * (with backoff, only while frames wait) and resends every unacknowledged frame in order.
 */
export function createRelayLink(options: RelayLinkOptions): RelayLink {
  const { selfNodeId, peerNodeId, secret, clock, logger, metrics } = options;
  assertRelaySecret(secret);
  const maxUnacked = options.maxUnacked ?? 10_000;
  const delay = options.reconnectDelay ?? { initialMs: 100, maxMs: 2_000 };
  const linkId = randomUUID();
  const log = logger.child({ peerNodeId, linkId });
  const queue: Pending[] = [];
  let head = 0; // queue[head..] are unacknowledged
  let nextSeq = 1;
  let client: Client | undefined;
  let clientAddress: string | undefined;
  let call: ClientDuplexStream<RelayRequest, RelayResponse> | undefined;
  let connecting = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let failures = 0;
  let closed = false;
  let waiters: (() => void)[] = [];

  const unacked = () => queue.length - head;
  const release = () => {
    const done = waiters;
    waiters = [];
    for (const w of done) w();
  };
  const writeAll = (stream: ClientDuplexStream<RelayRequest, RelayResponse>) => {
    let resent = 0;
    for (let i = head; i < queue.length; i++) {
      const pending = queue[i] as Pending;
      if (pending.written) resent++;
      pending.written = true;
      stream.write(pending.frame);
    }
    if (resent > 0) metrics.framesResent.inc(resent);
  };
  const onAck = (acked: number) => {
    const now = clock.now();
    let count = 0;
    for (let p = queue[head]; p && p.seq <= acked; p = queue[head]) {
      metrics.ackLatency.observe((now - p.queuedAt) / 1_000);
      head++;
      count++;
    }
    if (count === 0) return;
    metrics.unacked.dec(count);
    failures = 0;
    if (head > 1_024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    if (unacked() === 0) release();
  };
  const scheduleRetry = () => {
    if (closed || retryTimer || unacked() === 0) return;
    failures++;
    retryTimer = setTimeout(
      () => {
        retryTimer = undefined;
        connect();
      },
      Math.min(delay.initialMs * 2 ** (failures - 1), delay.maxMs),
    );
    retryTimer.unref();
  };
  const broken = (stream: ClientDuplexStream<RelayRequest, RelayResponse>, s: StatusObject) => {
    if (call !== stream) return;
    call = undefined;
    metrics.reconnects.inc();
    const level = s.code === status.UNAUTHENTICATED ? "error" : failures === 0 ? "warn" : "debug";
    log[level]({ code: status[s.code], details: s.details, unacked: unacked() }, "relay stream ended");
    scheduleRetry();
  };
  const open = async () => {
    const address = await options.resolveAddress();
    if (closed) return;
    if (!address) throw new Error(`no internal address known for node ${peerNodeId}`);
    if (!client || clientAddress !== address) {
      client?.close();
      client = new Client(address, credentials.createInsecure(), relayChannelOptions);
      clientAddress = address;
    }
    const metadata = new Metadata();
    metadata.set(RELAY_HEADERS.from, selfNodeId);
    metadata.set(RELAY_HEADERS.link, linkId);
    metadata.set(
      RELAY_HEADERS.auth,
      signRelayToken(secret, { from: selfNodeId, to: peerNodeId, link: linkId }, clock.now()),
    );
    const stream = client.makeBidiStreamRequest(
      relayMethod.path,
      relayMethod.requestSerialize,
      relayMethod.responseDeserialize,
      metadata,
    );
    call = stream;
    stream.on("data", (res: RelayResponse) => call === stream && onAck(Number(res.ackedSeq)));
    stream.on("error", () => {}); // reported through "status", which always follows
    stream.on("status", (s: StatusObject) => broken(stream, s));
    writeAll(stream);
  };
  const connect = () => {
    if (closed || call || connecting || retryTimer) return;
    connecting = true;
    open()
      .catch((error: unknown) => {
        log[failures === 0 ? "warn" : "debug"]({ err: error }, "relay connect failed");
        scheduleRetry();
      })
      .finally(() => {
        connecting = false;
      });
  };

  return {
    peerNodeId,
    linkId,
    send(body) {
      if (closed) throw new Error(`relay link to node ${peerNodeId} is closed`);
      if (unacked() >= maxUnacked) {
        metrics.queueFull.inc();
        throw new RelayQueueFullError(peerNodeId, maxUnacked);
      }
      const seq = nextSeq++;
      const pending: Pending = { seq, frame: relayFrame(seq, body), queuedAt: clock.now(), written: false };
      queue.push(pending);
      metrics.framesSent.inc();
      metrics.unacked.inc();
      if (call) {
        pending.written = true;
        call.write(pending.frame);
      } else connect();
      return seq;
    },
    unacked,
    drained: () => (unacked() === 0 || closed ? Promise.resolve() : new Promise((r) => waiters.push(r))),
    close() {
      if (closed) return 0;
      closed = true;
      clearTimeout(retryTimer);
      const discarded = unacked();
      metrics.unacked.dec(discarded);
      queue.length = 0;
      head = 0;
      call?.cancel();
      call = undefined;
      client?.close();
      release();
      return discarded;
    },
  };
}
