/**
 * The video quality ladder (docs/spec.md §6) and its mapping onto one
 * RTCRtpSender encoding. Pure data and arithmetic; no DOM or WebRTC objects.
 */

/** One rung of the ladder. `audioOnly` turns the video encoding off. */
export interface LadderStep {
  readonly name: string;
  /** Target frame height in pixels (0 for audio-only). */
  readonly height: number;
  readonly maxFramerate: number;
  /** Encoder bitrate cap for this rung, bits/s (0 for audio-only). */
  readonly maxBitrateBps: number;
  readonly audioOnly: boolean;
}

/**
 * Best first. Adjacent bitrates differ by at most ~2x so that the bandwidth
 * estimator's probe after a step up can reach the next rung.
 */
export const LADDER: readonly LadderStep[] = [
  { name: "720p30", height: 720, maxFramerate: 30, maxBitrateBps: 1_600_000, audioOnly: false },
  { name: "540p30", height: 540, maxFramerate: 30, maxBitrateBps: 1_000_000, audioOnly: false },
  { name: "360p24", height: 360, maxFramerate: 24, maxBitrateBps: 550_000, audioOnly: false },
  { name: "270p15", height: 270, maxFramerate: 15, maxBitrateBps: 300_000, audioOnly: false },
  { name: "180p10", height: 180, maxFramerate: 10, maxBitrateBps: 150_000, audioOnly: false },
  { name: "audio-only", height: 0, maxFramerate: 0, maxBitrateBps: 0, audioOnly: true },
];

/** Index of the last (worst) rung. */
export const WORST_STEP = LADDER.length - 1;

/** The subset of RTCRtpEncodingParameters the controller sets. */
export interface EncodingSettings {
  readonly active: boolean;
  readonly maxBitrate?: number;
  readonly scaleResolutionDownBy?: number;
  readonly maxFramerate?: number;
}

/**
 * Encoding for `step` given the camera track's height: scale down so the sent
 * height is at most the rung's height (never upscale), cap bitrate and frame rate.
 * Audio-only deactivates the video encoding (the track stays, so stepping back up
 * needs no renegotiation).
 */
export function encodingForStep(step: number, sourceHeight: number): EncodingSettings {
  const rung = LADDER[Math.min(Math.max(0, step), WORST_STEP)] as LadderStep;
  if (rung.audioOnly) return { active: false };
  const scale = sourceHeight > rung.height ? sourceHeight / rung.height : 1;
  return {
    active: true,
    maxBitrate: rung.maxBitrateBps,
    scaleResolutionDownBy: Math.round(scale * 1000) / 1000,
    maxFramerate: rung.maxFramerate,
  };
}
