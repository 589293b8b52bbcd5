import type { Children } from "./children.ts";

/** One table cell: numbers are formatted by the report (see report-md.ts). */
export type Cell = string | number;

/** A result table as the markdown report prints it. */
export type Table = { title: string; columns: string[]; rows: Cell[][] };

/** A grouped bar chart: one bar per (category, series) pair, e.g. (phase, server). */
export type BarChart = {
  title: string;
  unit: string;
  bars: { category: string; series: string; value: number }[];
};

/** What a scenario hands back: tables/charts for people, `data` for machines (goes to the JSON file). */
export type ScenarioResult = {
  scenario: string;
  description: string;
  tables: Table[];
  charts: BarChart[];
  notes: string[];
  data: unknown;
};

/** Progress sink measured in planned seconds of work (the bar's total is the sum of estimates). */
export type Progress = {
  /** Runs `fn` as one step of about `plannedSeconds`, advancing the bar with wall time (capped) and to the end when done. */
  step<T>(label: string, plannedSeconds: number, fn: () => Promise<T>): Promise<T>;
  /** Prints a line above the bar. */
  log(line: string): void;
};

/** Everything the harness gives a scenario run. */
export type ScenarioContext = {
  quick: boolean;
  progress: Progress;
  /** Spawns child processes that the harness kills on exit, error or Ctrl-C. */
  children: Children;
  /** Results of the scenarios that ran before this one in the same run (for summaries such as capacity). */
  previous?: readonly ScenarioResult[];
};

/**
 * A benchmark scenario: a module under bench/scenarios/ whose default export is this object,
 * listed in bench/scenarios/index.ts. It must be bounded in time and work, start its own
 * servers through `ctx.children`, and target 127.0.0.1 only.
 */
export type Scenario = {
  name: string;
  description: string;
  /** Planned wall time in seconds (drives the progress bar; a rough figure is fine). */
  estimateSeconds(quick: boolean): number;
  /** False to leave this scenario out of a `--quick` run that names no scenarios (default: included). */
  quickByDefault?: boolean;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
};
