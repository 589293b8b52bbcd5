import { setTimeout as sleep } from "node:timers/promises";
import type { Child, Children } from "../../lib/children.ts";
import { cpuPercent, createMachineReader, createProcReader, type ProcSample } from "../../lib/proc-stats.ts";
import type { Phase } from "./plan.ts";
import type { GcDoneMessage, LoadResult, LoadSpec } from "./protocol.ts";

const loadgenScript = `${import.meta.dirname}/load/loadgen.ts`;
const readProc = createProcReader();
const readMachine = createMachineReader();

/** Figures of one measured (saturated or paced) phase against one server. */
export type LoadFigures = {
  load: LoadResult;
  serverCpuPct: number;
  clientCpuPct: number;
  /** Busy CPU of everything else on the machine (other users, the harness) in one-core %. */
  otherCpuPct: number;
  serverRssBytes: number;
  serverPeakRssBytes: number;
};

/** Figures of the idle phase: memory the server spends per open stream. */
export type IdleFigures = {
  streams: number;
  openMs: number;
  rssDeltaBytes: number;
  heapDeltaBytes: number;
  errors: number;
  errorSamples: string[];
};

/** Runs a saturated or paced phase with a fresh load generator process and samples both processes. */
export async function measureLoad(children: Children, server: Child, spec: LoadSpec): Promise<LoadFigures> {
  if (spec.mode === "idle") throw new Error("use measureIdle for idle phases");
  const loadgen = children.spawn("loadgen", loadgenScript);
  try {
    loadgen.send({ type: "start", spec });
    await loadgen.waitFor("measure-start", 60_000 + spec.warmupMs);
    const from = { server: readProc(server.pid), client: readProc(loadgen.pid), machine: readMachine() };
    await loadgen.waitFor("measure-end", spec.measureMs + 15_000);
    const to = { server: readProc(server.pid), client: readProc(loadgen.pid), machine: readMachine() };
    const { result } = await loadgen.waitFor<{ type: "result"; result: LoadResult }>("result", 30_000);
    const serverCpuPct = cpuPercent(from.server, to.server);
    const clientCpuPct = cpuPercent(from.client, to.client);
    return {
      load: result,
      serverCpuPct,
      clientCpuPct,
      otherCpuPct: Math.max(0, cpuPercent(from.machine, to.machine) - serverCpuPct - clientCpuPct),
      serverRssBytes: to.server.rssBytes,
      serverPeakRssBytes: to.server.hwmBytes,
    };
  } finally {
    await loadgen.stop();
  }
}

/** Opens `spec.pairs` idle pairs, and compares the server's memory after forced GCs before and after. */
export async function measureIdle(children: Children, server: Child, spec: LoadSpec): Promise<IdleFigures> {
  const settled = async (): Promise<{ proc: ProcSample; gc: GcDoneMessage }> => {
    await sleep(500);
    server.send({ type: "gc" });
    const gc = await server.waitFor<GcDoneMessage>("gc-done", 10_000);
    return { proc: readProc(server.pid), gc };
  };
  const before = await settled();
  const loadgen = children.spawn("loadgen", loadgenScript);
  try {
    loadgen.send({ type: "start", spec });
    const opened = await loadgen.waitFor<{ type: "opened"; streams: number; openMs: number }>("opened", 60_000);
    const after = await settled();
    loadgen.send({ type: "release" });
    const { result } = await loadgen.waitFor<{ type: "result"; result: LoadResult }>("result", 30_000);
    return {
      streams: opened.streams,
      openMs: opened.openMs,
      rssDeltaBytes: after.proc.rssBytes - before.proc.rssBytes,
      heapDeltaBytes: after.gc.heapUsedBytes - before.gc.heapUsedBytes,
      errors: result.errors,
      errorSamples: result.errorSamples,
    };
  } finally {
    await loadgen.stop();
  }
}

/** Phase spec for one server. */
export function specFor(phase: Phase, transport: "grpc" | "ws", port: number): LoadSpec {
  return { ...phase.load, transport, port } as LoadSpec;
}
