import { Server, ServerCredentials, type ServerDuplexStream, status } from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { RelayFrame, RelayRequest, RelayResponse } from "../../../gen/calldrop/internal/v1/relay_pb.js";
import type { Clock } from "../../app/ports/clock.ts";
import { assertRelaySecret, RELAY_HEADERS, verifyRelayToken } from "./relay-auth.ts";
import { type RelayBody, relayAck, relayChannelOptions, relayService } from "./relay-grpc.ts";
import type { RelayMetrics } from "./relay-metrics.ts";
import { createRelaySequencer } from "./relay-sequencer.ts";

/** Receives the frames of other nodes. Called once per frame, in link order; must not block. */
export type RelayFrameHandler = (fromNodeId: string, body: RelayBody) => void;

/** Options of `startRelayServer`. */
export interface RelayServerOptions {
  /** This node's id: tokens must be addressed to it. */
  readonly nodeId: string;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** 0 picks a free port (see `RelayServer.port`). */
  readonly port: number;
  /** Secrets a caller's token may be signed with: the cluster's current one and, while it rotates, the previous or next. */
  readonly secrets: readonly string[];
  readonly onFrame: RelayFrameHandler;
  /** An authenticated stream from `fromNodeId` was cancelled or lost its connection (the node may have died). */
  readonly onDropped?: (fromNodeId: string) => void;
  /** Acknowledgements are coalesced and sent this long after a frame (0: on the next turn of the event loop). */
  readonly ackDelayMs?: number;
  /** Accepted clock difference between nodes for auth tokens. Default 5 minutes. */
  readonly maxClockSkewMs?: number;
  readonly clock: Pick<Clock, "now">;
  readonly logger: Logger;
  readonly metrics: RelayMetrics;
}

/** The running internal relay listener. */
export interface RelayServer {
  readonly port: number;
  /** Ends every stream at once (senders resend what was not acknowledged) and stops listening. */
  close(): Promise<void>;
}

/**
 * Serves NodeRelayService on the internal port with grpc-js. Each stream must carry a
 * valid token for this node (else UNAUTHENTICATED); frames are ordered per sending node
 * by the sequencer: duplicates dropped, holes counted and logged, then skipped.
 */
export async function startRelayServer(options: RelayServerOptions): Promise<RelayServer> {
  const { nodeId, secrets, onFrame, clock, logger, metrics } = options;
  if (secrets.length === 0) throw new Error("relay server needs at least one secret");
  for (const secret of secrets) assertRelaySecret(secret);
  const ackDelayMs = options.ackDelayMs ?? 0;
  const maxSkewMs = options.maxClockSkewMs ?? 300_000;
  const sequencer = createRelaySequencer();
  let closing = false;

  const relay = (stream: ServerDuplexStream<RelayRequest, RelayResponse>) => {
    const header = (name: string) => String(stream.metadata.get(name)[0] ?? "");
    const from = header(RELAY_HEADERS.from);
    const link = header(RELAY_HEADERS.link);
    const claims = { from, to: nodeId, link };
    stream.on("error", () => {}); // the peer went away; it resends on its next stream
    if (!from || !link || !verifyRelayToken(secrets, header(RELAY_HEADERS.auth), claims, clock.now(), maxSkewMs)) {
      metrics.authFailures.inc();
      logger.warn({ from, peer: stream.getPeer() }, "relay stream refused: not authenticated");
      stream.emit("error", { code: status.UNAUTHENTICATED, details: "relay caller not authenticated" });
      return;
    }
    let ackTimer: NodeJS.Timeout | undefined;
    const ack = () => {
      ackTimer = undefined;
      if (!stream.cancelled && stream.writable) stream.write(relayAck(sequencer.acked(from, link)));
    };
    const receive = (frame: RelayFrame) => {
      const seq = Number(frame.seq);
      const arrival = sequencer.accept(from, link, seq);
      if (arrival.kind === "duplicate") metrics.framesReceived.inc({ result: "duplicate" });
      else {
        if (arrival.kind === "gap") {
          metrics.gaps.inc();
          metrics.framesLost.inc(arrival.missing);
          logger.error({ from, link, seq, missing: arrival.missing }, "relay gap: frames lost; resynchronised");
        }
        metrics.framesReceived.inc({ result: "delivered" });
        if (frame.body.case !== undefined) {
          try {
            onFrame(from, frame.body);
          } catch (error) {
            logger.error({ err: error, from, seq }, "relay frame handler failed");
          }
        }
      }
    };
    stream.on("data", (request: RelayRequest) => {
      for (const frame of request.frames) receive(frame);
      if (!ackTimer) {
        ackTimer = setTimeout(ack, ackDelayMs);
        ackTimer.unref();
      }
    });
    stream.on("end", () => {
      clearTimeout(ackTimer);
      ack();
      stream.end();
    });
    stream.on("close", () => clearTimeout(ackTimer));
    // The sending link closed or its connection broke (links never end a stream but by cancelling).
    stream.on("cancelled", () => {
      if (!closing) options.onDropped?.(from);
    });
  };

  const server = new Server(relayChannelOptions);
  server.addService(relayService, { relay });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${options.host ?? "127.0.0.1"}:${options.port}`, ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    port,
    async close() {
      closing = true;
      server.forceShutdown();
    },
  };
}
