/**
 * The ringtone (an incoming call rings here) and the ringback (the other side is ringing)
 * as WebAudio beeps, no audio files: the ringtone a loud two-tone burst every 3 s, the
 * ringback the quieter 440 + 480 Hz tone, 2 s on, 4 s off, as on a phone line; the call-waiting tone
 * (a call waits while in a call, docs/spec.md §14) a short quiet 440 Hz beep every 5 s.
 */

/** Which tone plays. */
export type Tone = "ring" | "ringback" | "waiting";

/** The page's tones: at most one plays; start and stop any number of times. */
export interface Ringtone {
  start(tone: Tone): void;
  stop(): void;
  /** The tone playing now, if any. */
  readonly playing: Tone | undefined;
}

interface Pattern {
  readonly hz: readonly number[];
  readonly seconds: number;
  readonly gain: number;
  readonly everyMs: number;
}

const PATTERNS: Record<Tone, Pattern> = {
  ring: { hz: [440, 480], seconds: 1.3, gain: 0.2, everyMs: 3_000 },
  ringback: { hz: [440, 480], seconds: 2, gain: 0.06, everyMs: 6_000 },
  waiting: { hz: [440], seconds: 0.3, gain: 0.05, everyMs: 5_000 },
};

/** Creates the tones; the AudioContext is made lazily on first start. */
export function createRingtone(): Ringtone {
  let ctx: AudioContext | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let playing: Tone | undefined;

  const burst = (p: Pattern) => {
    if (!ctx) return;
    const t0 = ctx.currentTime;
    const gain = ctx.createGain();
    gain.gain.setValueAtTime(0.0001, t0);
    gain.gain.exponentialRampToValueAtTime(p.gain, t0 + 0.05);
    gain.gain.setValueAtTime(p.gain, t0 + p.seconds - 0.1);
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + p.seconds);
    gain.connect(ctx.destination);
    for (const hz of p.hz) {
      const osc = ctx.createOscillator();
      osc.frequency.value = hz;
      osc.connect(gain);
      osc.start(t0);
      osc.stop(t0 + p.seconds);
    }
  };

  const stop = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
    playing = undefined;
  };

  return {
    start(tone) {
      if (playing === tone) return;
      stop();
      ctx ??= new AudioContext();
      void ctx.resume().catch(() => {});
      const p = PATTERNS[tone];
      burst(p);
      timer = setInterval(() => burst(p), p.everyMs);
      playing = tone;
    },
    stop,
    get playing() {
      return playing;
    },
  };
}
