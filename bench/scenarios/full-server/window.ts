import { cpuPercent, createMachineReader, createProcReader, type ProcSample } from "../../lib/proc-stats.ts";
import { readSched, waitPercent } from "./schedstat.ts";

const readProc = createProcReader();
const readMachine = createMachineReader();

/** Resource use over one measurement window (CPU in one-core %: 100 = one core busy). */
export type WindowFigures = {
  wallMs: number;
  serverCpuPct: number;
  /** Server CPU time spent in the window, ms (for per-call / per-message costs). */
  serverCpuMs: number;
  /** All load generator processes together. */
  clientCpuPct: number;
  /** Everything else on the machine (other users, the harness), up to 200 minus ours. */
  otherCpuPct: number;
  /** % of the window the server's event-loop thread was runnable but waiting for a CPU (machine contention). */
  serverWaitPct: number;
  serverRssBytes: number;
  serverPeakRssBytes: number;
};

/** Starts a window over the server and the load generators; `close()` reads them again. */
export function openWindow(serverPid: number, clientPids: readonly number[]): { close(): WindowFigures } {
  const read = () => ({
    server: readProc(serverPid),
    sched: readSched(serverPid),
    clients: clientPids.map(readProc),
    machine: readMachine(),
  });
  const from = read();
  return {
    close() {
      const to = read();
      const serverCpuPct = cpuPercent(from.server, to.server);
      const clientCpuPct = sum(to.clients.map((c, i) => cpuPercent(from.clients[i] as ProcSample, c)));
      return {
        wallMs: to.server.atMs - from.server.atMs,
        serverCpuPct,
        serverCpuMs: to.server.cpuMs - from.server.cpuMs,
        clientCpuPct,
        otherCpuPct: Math.max(0, cpuPercent(from.machine, to.machine) - serverCpuPct - clientCpuPct),
        serverWaitPct: waitPercent(from.sched, to.sched),
        serverRssBytes: to.server.rssBytes,
        serverPeakRssBytes: to.server.hwmBytes,
      };
    },
  };
}

/** The server's current memory (one reading). */
export function serverMemory(serverPid: number): { rssBytes: number; hwmBytes: number } {
  const s = readProc(serverPid);
  return { rssBytes: s.rssBytes, hwmBytes: s.hwmBytes };
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
