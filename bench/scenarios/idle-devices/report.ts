import type { BarChart, Table } from "../../lib/scenario.ts";
import { perSecond } from "../../lib/stats.ts";
import type { WindowFigures } from "../full-server/window.ts";
import type { IdlePlan } from "./index.ts";

/** Memory of the server after forced GCs. */
export type SettledMemory = { rssBytes: number; hwmBytes: number; heapUsedBytes: number };

/** One measured row. */
export type IdleRun = {
  plan: IdlePlan;
  devices: number;
  openMs: number;
  before: SettledMemory;
  after: SettledMemory;
  /** Server resource use while the devices were opening. */
  open: WindowFigures;
  /** Server resource use while all devices sat idle. */
  idle: WindowFigures;
  errors: number;
  errorSamples: string[];
};

/** The bar of docs/spec.md §12: idle devices per 2-core pod within 4 GiB RSS. */
export const podDevicesBar = 100_000;
/** A pod's memory, bytes. */
export const podMemoryBytes = 4 * 1024 ** 3;

/** Headline figures of one row (also read by the capacity model). */
export type IdleFigures = {
  engine: string;
  devices: number;
  rssKbPerDevice: number;
  heapKbPerDevice: number;
  baselineRssBytes: number;
  /** Server CPU per connect (auth + session + stream), ms. */
  serverCpuMsPerConnect: number;
  connectsPerSecond: number;
  /** Server CPU at idle per device, µs per second (= one-core % × 1e4 / devices). */
  idleCpuUsPerDeviceSecond: number;
  projectedRssAtBarBytes: number;
  devicesIn4GiB: number;
};

/** Derives the headline figures of one row. */
export function idleFigures(run: IdleRun): IdleFigures {
  const n = run.devices;
  const rssPer = n > 0 ? (run.after.rssBytes - run.before.rssBytes) / n : Number.NaN;
  return {
    engine: run.plan.engine,
    devices: n,
    rssKbPerDevice: rssPer / 1024,
    heapKbPerDevice: n > 0 ? (run.after.heapUsedBytes - run.before.heapUsedBytes) / n / 1024 : Number.NaN,
    baselineRssBytes: run.before.rssBytes,
    serverCpuMsPerConnect: n > 0 ? run.open.serverCpuMs / n : Number.NaN,
    connectsPerSecond: perSecond(n, run.openMs),
    idleCpuUsPerDeviceSecond: n > 0 ? (run.idle.serverCpuPct * 1e4) / n : Number.NaN,
    projectedRssAtBarBytes: run.before.rssBytes + podDevicesBar * rssPer,
    devicesIn4GiB: rssPer > 0 ? Math.floor((podMemoryBytes - run.before.rssBytes) / rssPer) : Number.NaN,
  };
}

const mb = (bytes: number) => bytes / 1024 / 1024;

/** One table of memory and CPU per row, one of the 100k-devices projection. */
export function idleTables(runs: IdleRun[]): Table[] {
  return [
    {
      title: "Idle connected devices: memory and CPU",
      columns: [
        "engine",
        "devices",
        "open all s",
        "connects/s",
        "server CPU ms/connect",
        "RSS before MB",
        "RSS after MB",
        "RSS KB/device",
        "JS heap KB/device",
        "idle server CPU %",
        "idle CPU µs/s per device",
        "idle wait %",
        "errors",
      ],
      rows: runs.map((r) => {
        const f = idleFigures(r);
        return [
          r.plan.engine,
          r.devices,
          r.openMs / 1000,
          f.connectsPerSecond,
          f.serverCpuMsPerConnect,
          mb(r.before.rssBytes),
          mb(r.after.rssBytes),
          f.rssKbPerDevice,
          f.heapKbPerDevice,
          r.idle.serverCpuPct,
          f.idleCpuUsPerDeviceSecond,
          r.idle.serverWaitPct,
          r.errors,
        ];
      }),
    },
    {
      title: `Projection against §12 (≥ ${podDevicesBar.toLocaleString("en-US")} idle devices per pod within 4 GiB RSS)`,
      columns: ["engine", "measured devices", "projected RSS at 100k MB", "devices in 4 GiB", "bar met"],
      rows: runs.map((r) => {
        const f = idleFigures(r);
        return [
          r.plan.engine,
          r.devices,
          mb(f.projectedRssAtBarBytes),
          f.devicesIn4GiB,
          f.devicesIn4GiB >= podDevicesBar ? "yes (extrapolated)" : "NO",
        ];
      }),
    },
  ];
}

/** RSS per device per engine. */
export function idleCharts(runs: IdleRun[]): BarChart[] {
  return [
    {
      title: "idle-devices: server RSS per connected idle device (lower is better)",
      unit: "KB",
      bars: runs.map((r) => ({
        category: `${r.devices} devices`,
        series: r.plan.engine,
        value: idleFigures(r).rssKbPerDevice,
      })),
    },
  ];
}
