/**
 * Ringtone and ringback as WebAudio beeps (no audio files): a two-tone burst
 * every 3 s while an incoming call rings.
 */

/** A ringtone that can be started and stopped any number of times. */
export interface Ringtone {
  start(): void;
  stop(): void;
  readonly playing: boolean;
}

/** Creates the ringtone; the AudioContext is made lazily on first start. */
export function createRingtone(): Ringtone {
  let ctx: AudioContext | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;

  const burst = () => {
    if (!ctx) return;
    const t0 = ctx.currentTime;
    const gain = ctx.createGain();
    gain.gain.setValueAtTime(0.0001, t0);
    gain.gain.exponentialRampToValueAtTime(0.2, t0 + 0.05);
    gain.gain.setValueAtTime(0.2, t0 + 1.2);
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + 1.3);
    gain.connect(ctx.destination);
    for (const hz of [440, 480]) {
      const osc = ctx.createOscillator();
      osc.frequency.value = hz;
      osc.connect(gain);
      osc.start(t0);
      osc.stop(t0 + 1.3);
    }
  };

  return {
    start() {
      if (timer) return;
      ctx ??= new AudioContext();
      void ctx.resume().catch(() => {});
      burst();
      timer = setInterval(burst, 3_000);
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
    get playing() {
      return timer !== undefined;
    },
  };
}
