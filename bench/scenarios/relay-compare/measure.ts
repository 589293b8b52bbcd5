import type { Child, Children } from "../../lib/children.ts";
import { openWindow } from "../full-server/window.ts";
import type { LoadFigures } from "../relay-transport/measure.ts";
import type { LoadResult, LoadSpec } from "../relay-transport/protocol.ts";

const loadgenScript = `${import.meta.dirname}/../relay-transport/load/loadgen.ts`;

/** relay-transport's figures plus how long the server's event loop waited for a CPU (contention). */
export type CompareFigures = LoadFigures & { serverWaitPct: number };

/**
 * Runs one saturated or paced phase with relay-transport's load generator (fresh process) and
 * samples the server, the generator and the machine over the measurement window.
 */
export async function measureCompare(children: Children, server: Child, spec: LoadSpec): Promise<CompareFigures> {
  if (spec.mode === "idle") throw new Error("relay-compare has no idle phase");
  const loadgen = children.spawn("loadgen", loadgenScript);
  try {
    loadgen.send({ type: "start", spec });
    await loadgen.waitFor("measure-start", 90_000 + spec.warmupMs);
    const window = openWindow(server.pid, [loadgen.pid]);
    await loadgen.waitFor("measure-end", spec.measureMs + 15_000);
    const w = window.close();
    const { result } = await loadgen.waitFor<{ type: "result"; result: LoadResult }>("result", 30_000);
    return {
      load: result,
      serverCpuPct: w.serverCpuPct,
      clientCpuPct: w.clientCpuPct,
      otherCpuPct: w.otherCpuPct,
      serverRssBytes: w.serverRssBytes,
      serverPeakRssBytes: w.serverPeakRssBytes,
      serverWaitPct: w.serverWaitPct,
    };
  } finally {
    await loadgen.stop();
  }
}
