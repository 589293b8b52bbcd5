import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Clock } from "../../app/ports/clock.ts";
import { type PeerMessage, PeerOverloadedError, type Peers } from "../../app/ports/peers.ts";
import { refusesConnections } from "../relay/port-probe.ts";
import { RelayQueueFullError } from "../relay/relay-link.ts";
import { createRelayLinks } from "../relay/relay-links.ts";
import { createRelayMetrics } from "../relay/relay-metrics.ts";
import { startRelayServer } from "../relay/relay-server.ts";
import { messageFromBody, messageToBody } from "./peer-codec.ts";

/** Options of the relay peers. */
export interface RelayPeersOptions {
  readonly nodeId: string;
  /** Internal listener (never exposed to clients). */
  readonly host: string;
  /** 0 picks a free port (see `port`). */
  readonly port: number;
  /** The cluster's shared secret (HMAC of every stream): signs this node's streams and is accepted. */
  readonly secret: string;
  /** Also accepted on incoming streams, never signed with: the previous or next secret during a rotation. */
  readonly acceptedSecrets?: readonly string[];
  /** host:port of a peer's internal listener (from presence), undefined when unknown. */
  readonly resolveAddress: (nodeId: string) => Promise<string | undefined>;
  /** Bound of each link's unacknowledged queue. */
  readonly maxUnacked?: number;
  readonly clock: Pick<Clock, "now">;
  readonly logger: Logger;
  readonly registry: Registry;
}

/** Peers over the node relay: one authenticated, sequenced grpc-js stream per peer. */
export interface RelayPeers extends Peers {
  /** The port the internal listener is bound to. */
  readonly port: number;
}

/** Starts the internal relay listener and returns the peers of this node. */
export async function startRelayPeers(options: RelayPeersOptions): Promise<RelayPeers> {
  const { nodeId, logger } = options;
  const metrics = createRelayMetrics(options.registry);
  let handler: (from: string, message: PeerMessage) => void = () => {};
  const unreachable = new Set<(nodeId: string) => void>();
  const reportUnreachable = (peer: string) => {
    for (const listener of unreachable) listener(peer);
  };
  const refuses = async (peer: string) => {
    const address = await options.resolveAddress(peer);
    return address !== undefined && (await refusesConnections(address));
  };
  // A stream to or from a peer dropped: nothing may be sent to it for a while (a link with nothing
  // unacknowledged does not retry), so probe its port once and a dead peer is noticed at once.
  const probe = (peer: string) => {
    refuses(peer)
      .then((refused) => refused && reportUnreachable(peer))
      .catch((err: unknown) => logger.warn({ err, peer }, "relay port probe failed"));
  };
  const server = await startRelayServer({
    nodeId,
    host: options.host,
    port: options.port,
    secrets: [options.secret, ...(options.acceptedSecrets ?? [])],
    clock: options.clock,
    logger,
    metrics,
    onFrame(from, body) {
      const message = messageFromBody(body);
      if (message) handler(from, message);
    },
    onDropped: probe,
  });
  const links = createRelayLinks({
    selfNodeId: nodeId,
    secret: options.secret,
    maxUnacked: options.maxUnacked,
    resolveAddress: options.resolveAddress,
    clock: options.clock,
    logger,
    metrics,
    onUnreachable: reportUnreachable,
    onDropped: probe,
  });
  const decode = (bodies: ReturnType<typeof links.drop>) =>
    bodies.flatMap((b) => {
      const m = messageFromBody(b);
      return m ? [m] : [];
    });
  return {
    port: server.port,
    send(to, message) {
      try {
        links.send(to, messageToBody(message));
      } catch (err) {
        if (err instanceof RelayQueueFullError) throw new PeerOverloadedError(to, { cause: err });
        throw err;
      }
    },
    onMessage(h) {
      handler = h;
    },
    onUnreachable(listener) {
      unreachable.add(listener);
    },
    refuses,
    backlog: (to) => links.get(to)?.unacked() ?? 0,
    forget: (to) => decode(links.drop(to)),
    async close() {
      links.close();
      await server.close();
    },
  };
}
