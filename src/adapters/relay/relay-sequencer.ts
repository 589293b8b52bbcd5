/** What the receiver does with one arriving frame. */
export type Arrival =
  | { readonly kind: "deliver" }
  /** Already delivered (resent after a reconnect): drop it. */
  | { readonly kind: "duplicate" }
  /** `missing` frames before this one never arrived: report, then deliver this one and go on from it. */
  | { readonly kind: "gap"; readonly missing: number };

/**
 * Receiver-side ordering of relay links: per sending node, the current link id and the
 * last delivered seq. A new link id (the sender restarted) starts over. The first frame
 * of a link this receiver has not seen is its baseline: a sender only starts past 1
 * when an earlier incarnation of this receiver acknowledged the frames before it.
 */
export interface RelaySequencer {
  /** Classifies frame `seq` of `link` from node `from` and records a delivery. */
  accept(from: string, link: string, seq: number): Arrival;
  /** Highest seq delivered on `from`'s current link, if it is `link` (0 otherwise). */
  acked(from: string, link: string): number;
}

/** Creates an empty sequencer. */
export function createRelaySequencer(): RelaySequencer {
  const links = new Map<string, { link: string; last: number }>();
  return {
    accept(from, link, seq) {
      const state = links.get(from);
      if (!state || state.link !== link) {
        links.set(from, { link, last: seq });
        return { kind: "deliver" };
      }
      if (seq <= state.last) return { kind: "duplicate" };
      const missing = seq - state.last - 1;
      state.last = seq;
      return missing === 0 ? { kind: "deliver" } : { kind: "gap", missing };
    },
    acked(from, link) {
      const state = links.get(from);
      return state?.link === link ? state.last : 0;
    },
  };
}
