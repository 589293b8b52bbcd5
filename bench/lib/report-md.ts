import type { Cell, ScenarioResult, Table } from "./scenario.ts";

/** Header facts of one harness run. */
export type RunInfo = {
  command: string;
  startedAt: string;
  durationS: number;
  node: string;
  cpus: string;
  loadAvg: number[];
};

/** Formats a cell: integers ≥ 100 with thousands separators, smaller numbers with 3 significant digits. */
export function formatCell(cell: Cell): string {
  if (typeof cell === "string") return cell;
  if (!Number.isFinite(cell)) return "–";
  const abs = Math.abs(cell);
  if (abs >= 100) return Math.round(cell).toLocaleString("en-US");
  if (abs === 0) return "0";
  return Number(cell.toPrecision(3)).toString();
}

/**
 * Renders one table as GitHub markdown (pipes in cells escaped), columns padded to equal width
 * as the repo's formatter (biome) writes them, so generated files pass `biome check`.
 */
export function tableToMarkdown(table: Table): string {
  const cells = [table.columns, ...table.rows.map((r) => r.map(formatCell))].map((r) =>
    r.map((c) => c.replaceAll("|", "\\|")),
  );
  const width = (c: string) => [...c].length;
  const widths = table.columns.map((_, i) => Math.max(3, ...cells.map((r) => width(r[i] ?? ""))));
  const line = (r: string[]) =>
    `| ${widths.map((w, i) => (r[i] ?? "").padEnd(w + (r[i] ?? "").length - width(r[i] ?? ""))).join(" | ")} |`;
  const [header = [], ...rows] = cells;
  return [`**${table.title}**`, "", line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** Renders the whole run: header, then per scenario its tables, optional chart image and notes. */
export function runToMarkdown(info: RunInfo, results: ScenarioResult[], chartFile?: string): string {
  const out = [
    "# Bench results",
    "",
    `- command: \`${info.command}\``,
    `- started: ${info.startedAt}, took ${info.durationS.toFixed(0)} s`,
    `- machine: ${info.cpus}, Node ${info.node}, load average at start ${info.loadAvg.map((l) => l.toFixed(2)).join(" ")}`,
  ];
  for (const r of results) {
    out.push("", `## ${r.scenario}`, "", r.description, "");
    for (const t of r.tables) out.push(tableToMarkdown(t), "");
    if (r.notes.length) out.push(...r.notes.map((n) => `- ${n}`), "");
  }
  if (chartFile) out.push(`![charts](${chartFile})`, "");
  // Sections end with a blank line and start with one: keep one, as the formatter (biome) does.
  return out.join("\n").replace(/\n{3,}/g, "\n\n");
}
