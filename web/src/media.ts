/**
 * Camera and microphone. The capture height defaults to 720 (the ladder's top);
 * `?capture=360` in the page URL lowers it (used by the browser tests, whose two
 * Chromiums share 2 cores).
 */

/** The capture height requested from the camera. */
export function captureHeight(search: string): number {
  const h = Number(new URLSearchParams(search).get("capture"));
  return Number.isInteger(h) && h >= 90 && h <= 1080 ? h : 720;
}

/** Opens camera (when `video`) and microphone; rejects with the DOMException of getUserMedia. */
export async function openMedia(video: boolean, height: number): Promise<MediaStream> {
  return navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: true, noiseSuppression: true },
    video: video
      ? { height: { ideal: height }, width: { ideal: Math.round((height * 16) / 9) }, frameRate: 30 }
      : false,
  });
}

/** Stops every track of a stream (releases the camera light). */
export function stopMedia(stream: MediaStream | undefined): void {
  for (const t of stream?.getTracks() ?? []) t.stop();
}
