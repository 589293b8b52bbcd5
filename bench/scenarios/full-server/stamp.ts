/**
 * Send timestamps carried inside the signaling payload itself, so the receiving device can
 * measure one hop (sender → server → peer) without any side channel. Both devices of a call
 * live in the same load generator process, so the clock is that process's performance.now().
 */

const sdpLine = /^a=x-bench-sent:(\d+(?:\.\d+)?)\r?$/m;
const candidateField = / x-bench-sent (\d+(?:\.\d+)?)$/;

/** SDP `body` with an `a=x-bench-sent:<ms>` attribute line appended (a session-level extension line). */
export function stampSdp(body: string, sentAtMs: number): string {
  const base = body.endsWith("\r\n") ? body : `${body}\r\n`;
  return `${base}a=x-bench-sent:${sentAtMs.toFixed(3)}\r\n`;
}

/** The send time stamped by `stampSdp`, or undefined. */
export function sdpSentAt(sdp: string): number | undefined {
  const m = sdp.match(sdpLine);
  return m ? Number(m[1]) : undefined;
}

/** An ICE candidate line (host candidate `index` of side `side`) ending with the send time. */
export function stampedCandidate(side: "a" | "b", index: number, sentAtMs: number): string {
  const port = (side === "a" ? 50_000 : 52_000) + index;
  const foundation = `${side === "a" ? 1 : 2}${index.toString().padStart(3, "0")}`;
  return `candidate:${foundation} 1 udp 2122260223 127.0.0.1 ${port} typ host generation 0 network-id 1 x-bench-sent ${sentAtMs.toFixed(3)}`;
}

/** The send time stamped by `stampedCandidate`, or undefined. */
export function candidateSentAt(candidate: string): number | undefined {
  const m = candidate.match(candidateField);
  return m ? Number(m[1]) : undefined;
}
