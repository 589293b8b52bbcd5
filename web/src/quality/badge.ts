/** The live quality badge's text (pure, so the page and the tests agree on it). */
import { LADDER } from "./ladder.ts";
import type { QualityReading } from "./monitor.ts";

/** Multi-line badge: what we send, what we receive, loss, RTT and the media path. */
export function badgeText(r: QualityReading, path: "p2p" | "relay" | undefined): string {
  const s = r.stats;
  const rung = LADDER[r.step]?.name ?? "?";
  const kbps = (bps: number) => `${Math.round(bps / 1000)} kbps`;
  const loss = s.fractionLost === undefined ? "–" : `${(s.fractionLost * 100).toFixed(1)}%`;
  const rtt = s.rttMs === undefined ? "–" : `${Math.round(s.rttMs)} ms`;
  return [
    `↑ ${s.sent.width}×${s.sent.height} @${Math.round(s.sent.fps)} fps · ${kbps(s.sentBitrateBps)} · step ${rung}`,
    `↓ ${s.received.width}×${s.received.height} @${Math.round(s.received.fps)} fps · ${kbps(s.receivedBitrateBps)}`,
    `loss ${loss} · RTT ${rtt} · ${path === "relay" ? "relay (TURN)" : path === "p2p" ? "P2P" : "…"}`,
  ].join("\n");
}
