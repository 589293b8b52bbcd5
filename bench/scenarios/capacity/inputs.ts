import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { MeasuredInputs } from "../../capacity.ts";
import type { ScenarioResult } from "../../lib/scenario.ts";
import type { StormFigures } from "../call-storm/report.ts";
import type { IdleFigures } from "../idle-devices/report.ts";
import type { QualityFigures } from "../quality-reports/report.ts";
import type { BarVerdict, CellFigures } from "../relay-compare/report.ts";
import type { SteadyFigures } from "../steady-calls/report.ts";

/** Where each input came from: this run, an earlier results file, or an assumed stand-in. */
export type Sourced = { value: number; source: string };

/** The measured inputs with their sources, plus the extra figures the §12 summary shows. */
export type GatheredInputs = {
  measured: Record<keyof MeasuredInputs, Sourced>;
  storm?: StormFigures & { startToRingingP99: number; startToAcceptedP99: number };
  steady?: SteadyFigures & { hopP50: number };
  /** Every steady-calls size, with how contended its window was. */
  steadySizes?: { calls: number; hopP50: number; hopP99: number; serverWaitPct: number; otherCpuPct: number }[];
  idle?: IdleFigures;
  relay?: {
    cells: Record<string, Partial<Record<string, CellFigures>>>;
    saturated: string;
    paced: string;
    bars: BarVerdict[];
  };
};

/** Stand-ins used only when no run has measured a figure (marked "assumed" in the report). */
export const standIns: MeasuredInputs = {
  rssKbPerDevice: 75,
  baselineRssMb: 130,
  cpuMsPerConnect: 1,
  idleCpuUsPerDeviceSecond: 5,
  cpuMsPerCallLifecycle: 1,
  cpuUsPerRelayedMessage: 200,
  cpuUsPerQualityReport: 250,
  // One row per call per 30 s window of 12 reports (docs/spec.md §7 "Sample windows").
  sampleWritesPerReport: 1 / 12,
  sampleBytesPerReport: 82,
  cpuUsPerForwardedMessage: 80,
  etcdDirectoryBytesPerCall: 552,
  etcdDirectoryRevisionsPerCall: 5,
};

type Data = { scenario: string; data: unknown };

/** The scenario results of the most recent results JSON in `dir` that has `scenario` with data. */
export function latestFromFiles(dir: string, scenario: string): { data: unknown; file: string } | undefined {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /^\d{4}-.*\.json$/.test(f));
  } catch {
    return undefined;
  }
  for (const file of files.sort().reverse()) {
    try {
      const run = JSON.parse(readFileSync(join(dir, file), "utf8")) as { results?: Data[] };
      const hit = run.results?.find(
        (r) => r.scenario === scenario && r.data && !(r.data as { failed?: unknown }).failed,
      );
      if (hit) return { data: hit.data, file };
    } catch {
      // an unreadable file is skipped
    }
  }
  return undefined;
}

/**
 * Collects the per-pod figures: from this run's earlier scenarios first, else from the newest
 * results file in `resultsDir` that has them, else the stand-ins (reported as assumed).
 */
export function gatherInputs(previous: readonly ScenarioResult[], resultsDir: string): GatheredInputs {
  const find = (scenario: string): { data: unknown; source: string } | undefined => {
    const here = previous.find((r) => r.scenario === scenario && r.data && !(r.data as { failed?: unknown }).failed);
    if (here) return { data: here.data, source: `${scenario} (this run)` };
    const file = latestFromFiles(resultsDir, scenario);
    return file && { data: file.data, source: `${scenario} (${file.file})` };
  };
  const out: GatheredInputs = {
    measured: Object.fromEntries(
      Object.entries(standIns).map(([key, value]) => [key, { value, source: "assumed (not measured)" }]),
    ) as GatheredInputs["measured"],
  };
  const set = (key: keyof MeasuredInputs, value: number | undefined, source: string) => {
    if (value !== undefined && Number.isFinite(value) && value > 0) out.measured[key] = { value, source };
  };

  const idle = find("idle-devices");
  if (idle) {
    const rows = (idle.data as { figures: IdleFigures }[]).map((r) => r.figures).filter((f) => f.engine === "grpc-js");
    const f = rows.sort((a, b) => b.devices - a.devices)[0];
    if (f) {
      out.idle = f;
      const src = `${idle.source}, ${f.devices.toLocaleString("en-US")} devices`;
      set("rssKbPerDevice", f.rssKbPerDevice, src);
      set("baselineRssMb", f.baselineRssBytes / 1024 / 1024, src);
      set("cpuMsPerConnect", f.serverCpuMsPerConnect, src);
      set("idleCpuUsPerDeviceSecond", f.idleCpuUsPerDeviceSecond, src);
    }
  }
  const storm = find("call-storm");
  if (storm) {
    const d = storm.data as {
      figures: StormFigures;
      result: { startToRinging: { p99: number }; startToAccepted: { p99: number } };
    };
    out.storm = {
      ...d.figures,
      startToRingingP99: d.result.startToRinging.p99,
      startToAcceptedP99: d.result.startToAccepted.p99,
    };
    set("cpuMsPerCallLifecycle", d.figures.serverCpuMsPerCall, storm.source);
  }
  const steady = find("steady-calls");
  if (steady) {
    const rows = steady.data as {
      figures: SteadyFigures;
      result: { hop: { p50: number; p99: number } };
      window: { serverWaitPct?: number; otherCpuPct: number };
    }[];
    out.steadySizes = rows.map((r) => ({
      calls: r.figures.calls,
      hopP50: r.result.hop.p50,
      hopP99: r.result.hop.p99,
      serverWaitPct: r.window.serverWaitPct ?? Number.NaN,
      otherCpuPct: r.window.otherCpuPct,
    }));
    const biggest = [...rows].sort((a, b) => b.figures.calls - a.figures.calls)[0];
    if (biggest) {
      out.steady = { ...biggest.figures, hopP50: biggest.result.hop.p50 };
      set(
        "cpuUsPerQualityReport",
        biggest.figures.serverCpuUsPerCommand,
        `${steady.source}, ${biggest.figures.calls} calls (command mix)`,
      );
    }
  }
  const quality = find("quality-reports");
  if (quality) {
    const f = (quality.data as { figures?: QualityFigures }).figures;
    const src = `${quality.source}, rollup on`;
    // Measured per report: it replaces the steady-calls command mix.
    set("cpuUsPerQualityReport", f?.after?.serverCpuUsPerCommand, src);
    set("sampleWritesPerReport", f?.after?.sampleWritesPerReport, src);
    set("sampleBytesPerReport", f?.windowBytesPerSample, `${quality.source}, 12-sample window`);
  }
  const relay = find("relay-compare");
  if (relay) {
    const f = (relay.data as { figures: GatheredInputs["relay"] }).figures;
    if (f) {
      out.relay = f;
      set("cpuUsPerRelayedMessage", f.cells[f.saturated]?.["calldrop grpc-js"]?.serverCpuUsPerMsg, relay.source);
      set(
        "cpuUsPerForwardedMessage",
        f.cells[f.saturated]?.["bare grpc-js"]?.serverCpuUsPerMsg,
        `${relay.source}, bare grpc-js`,
      );
    }
  }
  const directory = find("call-directory");
  if (directory) {
    const rows = (
      directory.data as { etcd: { layout: string; dbBytesPerCall: number; revisionsPerLifecycle: number }[] }
    ).etcd;
    const compact = rows?.find((r) => r.layout === "compact");
    set("etcdDirectoryBytesPerCall", compact?.dbBytesPerCall, `${directory.source}, compact layout`);
    set("etcdDirectoryRevisionsPerCall", compact?.revisionsPerLifecycle, `${directory.source}, compact layout`);
  }
  return out;
}
