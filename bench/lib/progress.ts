import cliProgress from "cli-progress";
import type { Progress } from "./scenario.ts";

/** A progress bar on stderr (plain lines when stderr is not a TTY) plus `stop()`: full bar when `completed`. */
export type ProgressBar = Progress & { stop(completed: boolean): void };

/** Creates the bar for `totalSeconds` of planned work. */
export function createProgressBar(totalSeconds: number, stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  const multi = new cliProgress.MultiBar(
    {
      stream,
      format: "bench [{bar}] {percentage}% | {elapsed}s / ~{planned}s | {label}",
      hideCursor: true,
      clearOnComplete: false,
      noTTYOutput: true,
      notTTYSchedule: 10_000,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  const bar = multi.create(Math.max(1, Math.round(totalSeconds)), 0, { label: "starting", planned: totalSeconds });
  let done = 0;
  const show = (label: string, value: number) =>
    bar.update(Math.round(value), { label, elapsed: Math.round((Date.now() - started) / 1000) });

  return {
    async step(label, plannedSeconds, fn) {
      const from = done;
      const t0 = Date.now();
      show(label, from);
      const timer = setInterval(() => show(label, from + Math.min(plannedSeconds, (Date.now() - t0) / 1000)), 500);
      try {
        return await fn();
      } finally {
        clearInterval(timer);
        done = from + plannedSeconds;
        show(label, done);
      }
    },
    log(line) {
      multi.log(`${line}\n`);
    },
    stop(completed) {
      if (completed) show("done", Math.max(done, totalSeconds));
      multi.stop();
    },
  };
}
