/** A quality report sample as a healthy P2P 720p30 call sends it (the load generators' reports). */
import { PathType } from "../../../gen/calldrop/v1/call_pb.js";

export function qualitySample() {
  return {
    atMs: BigInt(Date.now()),
    fractionLost: 0.01,
    jitterMs: 4,
    rttMs: 28,
    availableOutgoingBitrateBps: 1_500_000,
    sentBitrateBps: 1_200_000,
    frameWidth: 1280,
    frameHeight: 720,
    framesPerSecond: 30,
    qualityLimitationReason: "none",
    path: PathType.P2P,
  };
}
