import type { Child, Children } from "../../lib/children.ts";
import { openWindow, type WindowFigures } from "./window.ts";

/** What one measured load phase gives back. */
export type Driven<R> = { result: R; window: WindowFigures; opened: { devices: number; openMs: number } };

/**
 * Runs one load generator script through the common phase protocol: `start` with `spec` →
 * `opened` → `measure-start` (the server's and the generator's CPU are sampled from here) →
 * `measure-end` → `result`. The generator process is fresh per phase and always stopped.
 * `window` is told when the measurement window opens and closes (to count other clients in it).
 */
export async function driveLoadgen<R>(
  children: Children,
  server: Child,
  script: string,
  spec: { warmupMs: number; measureMs: number },
  openTimeoutMs = 90_000,
  window?: { opened(): void; closed(): void },
): Promise<Driven<R>> {
  const loadgen = children.spawn("loadgen", script);
  try {
    loadgen.send({ type: "start", spec });
    const opened = await loadgen.waitFor<{ type: "opened"; devices: number; openMs: number }>("opened", openTimeoutMs);
    await loadgen.waitFor("measure-start", spec.warmupMs + 30_000);
    const measured = openWindow(server.pid, [loadgen.pid]);
    window?.opened();
    await loadgen.waitFor("measure-end", spec.measureMs + 30_000);
    const figures = measured.close();
    window?.closed();
    const { result } = await loadgen.waitFor<{ type: "result"; result: R }>("result", 60_000);
    return { result, window: figures, opened: { devices: opened.devices, openMs: opened.openMs } };
  } finally {
    await loadgen.stop();
  }
}
