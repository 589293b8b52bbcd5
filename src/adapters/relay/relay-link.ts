import { randomUUID } from "node:crypto";
import { Client, type ClientDuplexStream, credentials, Metadata, type StatusObject, status } from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { RelayFrame, RelayRequest, RelayResponse } from "../../../gen/calldrop/internal/v1/relay_pb.js";
import type { Clock } from "../../app/ports/clock.ts";
import { assertRelaySecret, RELAY_HEADERS, signRelayToken } from "./relay-auth.ts";
import { frameOf, type RelayBody, relayBatch, relayChannelOptions, relayMethod } from "./relay-grpc.ts";
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
  /** Ends the stream and discards unacknowledged frames; returns their bodies, oldest first. */
  close(): RelayBody[];
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
  /** A connection attempt failed before the peer answered at all (it may be dead before presence says so). */
  readonly onUnreachable?: () => void;
  /** A stream the peer had answered ended (the peer may have died). */
  readonly onDropped?: () => void;
}

/** Bounds of one batch (one gRPC message) of frames. */
const MAX_BATCH_FRAMES = 512;
const MAX_BATCH_BYTES = 256 * 1024;

interface Pending {
  readonly seq: number;
  readonly frame: RelayFrame;
  /** Rough encoded size, for the batch bound. */
  readonly bytes: number;
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
  let nextWrite = 0; // queue[nextWrite..] are not yet written on the current stream
  let blocked = false; // the current stream's buffer is full: wait for 'drain'
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
  /**
   * Writes queued frames from `nextWrite` on while the stream takes them: once grpc-js
   * reports its buffer full, the rest waits here for 'drain' (grpc-js's own buffer of a
   * stream costs O(n) per message sent, so it must stay short).
   */
  const pump = (stream: ClientDuplexStream<RelayRequest, RelayResponse>) => {
    let resent = 0;
    while (call === stream && !blocked && nextWrite < queue.length) {
      // Everything queued goes out together (up to a bound), in one message.
      const frames: RelayFrame[] = [];
      for (let bytes = 0; nextWrite < queue.length && frames.length < MAX_BATCH_FRAMES && bytes < MAX_BATCH_BYTES; ) {
        const pending = queue[nextWrite++] as Pending;
        if (pending.written) resent++;
        pending.written = true;
        frames.push(pending.frame);
        bytes += pending.bytes;
      }
      if (!stream.write(relayBatch(frames))) {
        blocked = true;
        stream.once("drain", () => {
          if (call !== stream) return;
          blocked = false;
          pump(stream);
        });
      }
    }
    if (resent > 0) metrics.framesResent.inc(resent);
  };
  const writeAll = (stream: ClientDuplexStream<RelayRequest, RelayResponse>) => {
    nextWrite = head;
    blocked = false;
    pump(stream);
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
      nextWrite -= head;
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
  const broken = (stream: ClientDuplexStream<RelayRequest, RelayResponse>, s: StatusObject, answered: boolean) => {
    if (call !== stream) return;
    call = undefined;
    if (!answered && s.code === status.UNAVAILABLE) options.onUnreachable?.();
    if (answered && !closed) options.onDropped?.();
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
    let answered = false;
    stream.on("metadata", () => {
      answered = true;
    });
    stream.on("data", (res: RelayResponse) => {
      answered = true;
      if (call === stream) onAck(Number(res.ackedSeq));
    });
    stream.on("error", () => {}); // reported through "status", which always follows
    stream.on("status", (s: StatusObject) => broken(stream, s, answered));
    writeAll(stream);
  };
  const connect = () => {
    if (closed || call || connecting || retryTimer) return;
    connecting = true;
    open()
      .catch((error: unknown) => {
        log[failures === 0 ? "warn" : "debug"]({ err: error }, "relay connect failed");
        options.onUnreachable?.();
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
      const pending: Pending = {
        seq,
        frame: frameOf(seq, body),
        bytes: sizeOf(body),
        queuedAt: clock.now(),
        written: false,
      };
      queue.push(pending);
      metrics.framesSent.inc();
      metrics.unacked.inc();
      if (call) pump(call);
      else connect();
      return seq;
    },
    unacked,
    drained: () => (unacked() === 0 || closed ? Promise.resolve() : new Promise((r) => waiters.push(r))),
    close() {
      if (closed) return [];
      closed = true;
      clearTimeout(retryTimer);
      const discarded = queue.slice(head).map((p) => p.frame.body as RelayBody);
      metrics.unacked.dec(discarded.length);
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

/** A cheap upper-bound guess of a body's encoded size (SDPs dominate; everything else is small). */
function sizeOf(body: RelayBody): number {
  if (body.case === "commandForward" && body.value.message?.kind.case === "description") {
    return 256 + body.value.message.kind.value.sdp.length * 3;
  }
  if (body.case === "deliver" && body.value.event?.kind.case === "description") {
    return 256 + body.value.event.kind.value.sdp.length * 3;
  }
  if (body.case === "sessionHandoffReply") return 64 * 1024;
  return 256;
}
