import type { RelayBody } from "./relay-grpc.ts";
import { createRelayLink, type RelayLink, type RelayLinkOptions } from "./relay-link.ts";

/** This node's outbound links, one per peer node (docs/style.md 10). */
export interface RelayLinks {
  /** Queues a frame for `peerNodeId` on its link (created on first use); throws RelayQueueFullError when full. */
  send(peerNodeId: string, body: RelayBody): number;
  /** The link to a peer, if one exists. */
  get(peerNodeId: string): RelayLink | undefined;
  /** Closes the link to a node that left; returns the unacknowledged frames it discarded, oldest first. */
  drop(peerNodeId: string): RelayBody[];
  /** Closes every link. */
  close(): void;
}

/** Options of `createRelayLinks`: those of a link, with the address looked up per peer. */
export interface RelayLinksOptions
  extends Omit<RelayLinkOptions, "peerNodeId" | "resolveAddress" | "onUnreachable" | "onDropped"> {
  /** The internal host:port of a node (e.g. from Presence.nodes()); undefined when unknown. */
  readonly resolveAddress: (peerNodeId: string) => string | undefined | Promise<string | undefined>;
  /** A link's connection attempt failed before its peer answered. */
  readonly onUnreachable?: (peerNodeId: string) => void;
  /** A link's answered stream ended. */
  readonly onDropped?: (peerNodeId: string) => void;
}

/** Creates the link set of this node; links to itself are refused (deliver locally instead). */
export function createRelayLinks(options: RelayLinksOptions): RelayLinks {
  const links = new Map<string, RelayLink>();
  const dropped = (link: RelayLink) => {
    const discarded = link.close();
    if (discarded.length > 0) {
      options.metrics.framesDropped.inc(discarded.length);
      options.logger.warn(
        { peerNodeId: link.peerNodeId, discarded: discarded.length },
        "relay link closed with unacknowledged frames",
      );
    }
    return discarded;
  };
  const linkTo = (peerNodeId: string) => {
    if (peerNodeId === options.selfNodeId) throw new Error("no relay link to this node itself");
    let link = links.get(peerNodeId);
    if (!link) {
      link = createRelayLink({
        ...options,
        peerNodeId,
        resolveAddress: () => options.resolveAddress(peerNodeId),
        onUnreachable: () => options.onUnreachable?.(peerNodeId),
        onDropped: () => options.onDropped?.(peerNodeId),
      });
      links.set(peerNodeId, link);
    }
    return link;
  };
  return {
    send: (peerNodeId, body) => linkTo(peerNodeId).send(body),
    get: (peerNodeId) => links.get(peerNodeId),
    drop(peerNodeId) {
      const link = links.get(peerNodeId);
      if (!link) return [];
      links.delete(peerNodeId);
      return dropped(link);
    },
    close() {
      for (const link of links.values()) dropped(link);
      links.clear();
    },
  };
}
