import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** CPU time and memory of one process at one instant, read from /proc (Linux only). */
export type ProcSample = {
  /** Monotonic time of the reading, milliseconds (performance.now()). */
  atMs: number;
  /** user + system CPU time consumed so far, milliseconds. */
  cpuMs: number;
  /** Resident set size, bytes. */
  rssBytes: number;
  /** Peak resident set size so far, bytes. */
  hwmBytes: number;
};

/**
 * Parses user+system clock ticks from the contents of /proc/<pid>/stat. The command name
 * (field 2) may contain spaces and parentheses, so fields are counted after the last ')'.
 */
export function parseStatTicks(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unparsable /proc stat: ${stat}`);
  return utime + stime;
}

/** Reads a `Key:   N kB` line of /proc/<pid>/status as bytes; throws when absent. */
export function parseStatusKb(status: string, key: string): number {
  const m = status.match(new RegExp(`^${key}:\\s+(\\d+) kB$`, "m"));
  if (!m) throw new Error(`/proc status has no ${key}`);
  return Number(m[1]) * 1024;
}

/**
 * Parses the aggregate `cpu` line of /proc/stat into busy and total clock ticks over all cores
 * (busy = everything but idle and iowait).
 */
export function parseMachineTicks(procStat: string): { busy: number; total: number } {
  const line = procStat.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) throw new Error("/proc/stat has no cpu line");
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  return { busy: total - (ticks[3] ?? 0) - (ticks[4] ?? 0), total };
}

/** CPU % of one core used between two samples of the same process (may exceed 100 with threads). */
export function cpuPercent(from: ProcSample, to: ProcSample): number {
  const wall = to.atMs - from.atMs;
  return wall > 0 ? ((to.cpuMs - from.cpuMs) / wall) * 100 : 0;
}

/** Reads process samples; `clockTicksPerSecond` comes from `getconf CLK_TCK` (100 on Linux). */
export function createProcReader(clockTicksPerSecond = readClockTicks()): (pid: number) => ProcSample {
  return (pid) => {
    const atMs = performance.now();
    const ticks = parseStatTicks(readFileSync(`/proc/${pid}/stat`, "utf8"));
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return {
      atMs,
      cpuMs: (ticks * 1000) / clockTicksPerSecond,
      rssBytes: parseStatusKb(status, "VmRSS"),
      hwmBytes: parseStatusKb(status, "VmHWM"),
    };
  };
}

/**
 * Reads the whole machine's busy CPU time as a ProcSample-like figure (rss fields are 0), so
 * `cpuPercent` of two readings is the machine's busy CPU in one-core % (200 = both cores busy).
 */
export function createMachineReader(clockTicksPerSecond = readClockTicks()): () => ProcSample {
  return () => {
    const atMs = performance.now();
    const { busy } = parseMachineTicks(readFileSync("/proc/stat", "utf8"));
    return { atMs, cpuMs: (busy * 1000) / clockTicksPerSecond, rssBytes: 0, hwmBytes: 0 };
  };
}

function readClockTicks(): number {
  try {
    const n = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return n > 0 ? n : 100;
  } catch {
    return 100;
  }
}
