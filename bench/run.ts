/**
 * Bench harness entry: `npm run bench -- [scenario...] [--quick] [--out dir]`.
 * Runs the scenarios of bench/scenarios/index.ts in order with a progress bar on stderr, then
 * writes <out>/<timestamp>.json (all data), <out>/latest.md and <out>/latest.png (charts).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, relative } from "node:path";
import { parseBenchArgs } from "./lib/args.ts";
import { renderChartsPng } from "./lib/chart.ts";
import { createChildren } from "./lib/children.ts";
import { createProgressBar } from "./lib/progress.ts";
import { type RunInfo, runToMarkdown } from "./lib/report-md.ts";
import type { Scenario, ScenarioResult } from "./lib/scenario.ts";
import { scenarios } from "./scenarios/index.ts";

const args = parseBenchArgs(
  process.argv.slice(2),
  scenarios.map((s) => s.name),
  scenarios.filter((s) => s.quickByDefault !== false).map((s) => s.name),
);
if (args.help) {
  process.stdout.write(
    `usage: npm run bench -- [${scenarios.map((s) => s.name).join("|")} ...] [--quick] [--out dir]\n`,
  );
  process.exit(0);
}
const selected = scenarios.filter((s) => args.scenarios.includes(s.name));
const outDir = args.outDir ?? join(import.meta.dirname, "results");
const started = new Date();
const info: Omit<RunInfo, "durationS"> = {
  command: ["npm run bench", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(" "),
  startedAt: started.toISOString(),
  node: process.version,
  cpus: `${cpus().length} x ${cpus()[0]?.model ?? "?"}`,
  loadAvg: loadavg(),
};

const totalSeconds = selected.reduce((s, sc) => s + sc.estimateSeconds(args.quick), 0);
const progress = createProgressBar(totalSeconds);
const children = createChildren((line) => progress.log(line));
const abort = async (why: string, code: number) => {
  progress.stop(false);
  process.stderr.write(`\nbench: ${why}, stopping children\n`);
  await children.stopAll();
  process.exit(code);
};
process.once("SIGINT", () => void abort("interrupted", 130));
process.once("SIGTERM", () => void abort("terminated", 143));
// Hard cap: three times the plan, so a hung phase can never keep the harness (or its children) alive.
setTimeout(() => void abort("over time budget", 124), Math.max(120, totalSeconds * 3) * 1000).unref();

const results: ScenarioResult[] = [];
let completed = false;
try {
  for (const scenario of selected) {
    try {
      results.push(await scenario.run({ quick: args.quick, progress, children, previous: [...results] }));
    } catch (e) {
      // One failed scenario must not lose the others' results: record it and go on.
      const message = (e as Error).stack ?? String(e);
      progress.log(`bench: ${scenario.name} failed: ${message.split("\n")[0]}`);
      await children.stopAll();
      results.push(failedResult(scenario, message));
    }
  }
  completed = true;
} finally {
  await children.stopAll();
  progress.stop(completed);
}

mkdirSync(outDir, { recursive: true });
const runInfo: RunInfo = { ...info, durationS: (Date.now() - started.getTime()) / 1000 };
const jsonFile = join(outDir, `${started.toISOString().replaceAll(":", "-").replace(/\..*/, "")}.json`);
writeFileSync(jsonFile, `${JSON.stringify({ ...runInfo, quick: args.quick, results }, bigintReplacer, 2)}\n`);
let chart: string | undefined;
try {
  writeFileSync(join(outDir, "latest.png"), await renderChartsPng(results.flatMap((r) => r.charts)));
  chart = "latest.png";
} catch (e) {
  process.stderr.write(`bench: chart not rendered (${(e as Error).message}); markdown tables only\n`);
}
const md = runToMarkdown(runInfo, results, chart);
writeFileSync(join(outDir, "latest.md"), md);
process.stdout.write(
  `${md}\nwrote ${relative(process.cwd(), jsonFile)}, ${relative(process.cwd(), join(outDir, "latest.md"))}\n`,
);

function failedResult(scenario: Scenario, message: string): ScenarioResult {
  return {
    scenario: scenario.name,
    description: scenario.description,
    tables: [],
    charts: [],
    notes: [`FAILED: ${message.split("\n").slice(0, 3).join(" ")}`],
    data: { failed: message },
  };
}

function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
