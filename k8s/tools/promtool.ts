/**
 * Prometheus' own rule checker, `promtool` (Debian package `prometheus`, unpacked only): the
 * same parser and type checker Prometheus runs when it loads rules, plus its rule unit tests.
 */
import { spawnSync } from "node:child_process";
import { debianBinaryUnpacked } from "./debian.ts";

/** Path of promtool, fetched on first use. */
export function promtool(log: (l: string) => void = () => {}): string {
  return debianBinaryUnpacked("prometheus", "usr/bin/promtool", log);
}

/** Result of a promtool run. */
export interface PromtoolResult {
  ok: boolean;
  output: string;
}

function runPromtool(args: string[]): PromtoolResult {
  const r = spawnSync(promtool(), args, { encoding: "utf8" });
  return { ok: r.status === 0, output: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error?.message ?? ""}`.trim() };
}

/** `promtool check rules`: syntax, types, templates, duplicate names. */
export function checkRules(...files: string[]): PromtoolResult {
  return runPromtool(["check", "rules", ...files]);
}

/** `promtool test rules`: evaluates rules over synthetic series and compares alerts. */
export function testRules(...files: string[]): PromtoolResult {
  return runPromtool(["test", "rules", ...files]);
}

/** `promtool --version`, first line. */
export function promtoolVersion(): string {
  return runPromtool(["--version"]).output.split("\n")[0] ?? "";
}
