/**
 * A call's quality score in words, for history (docs/spec.md §15): "good (MOS 4.3)",
 * "poor: your network (MOS 2.1)", "poor: bob's network (MOS 2.1)". Shared by the web
 * client's history table and the CLI's history lines.
 */
import { type QualitySummary, QualityVerdict } from "../../gen/calldrop/v1/call_pb.js";

const VERDICT: Partial<Record<QualityVerdict, string>> = {
  [QualityVerdict.GOOD]: "good",
  [QualityVerdict.FAIR]: "fair",
  [QualityVerdict.POOR]: "poor",
};

/**
 * The score in words as `me` reads it (their own network is "your network"); undefined for
 * a call without a score (no samples, or recorded before scores existed).
 */
export function qualityInWords(quality: QualitySummary | undefined, me: string): string | undefined {
  const score = quality?.score;
  const verdict = score && VERDICT[score.verdict];
  if (!score || !verdict) return undefined;
  const who = score.poorNetworkUserId;
  const cause = score.verdict === QualityVerdict.POOR && who ? `: ${who === me ? "your" : `${who}'s`} network` : "";
  return `${verdict}${cause} (MOS ${score.medianMos.toFixed(1)})`;
}
