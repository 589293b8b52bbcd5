/**
 * Every metric family the dashboards and alert rules may use (tools/metrics-catalog.ts) is
 * one the server really registers in src/, so a renamed metric fails CI instead of leaving
 * an empty panel or an alert that can never fire.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { METRICS } from "./tools/metrics-catalog.ts";

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : e.name.endsWith(".ts") && !e.name.endsWith(".test.ts")
        ? [join(dir, e.name)]
        : [],
  );
}

test("every catalogued metric is registered by the server", () => {
  const registered = new Set(
    sources(join(import.meta.dirname, "..", "src")).flatMap((f) =>
      [...readFileSync(f, "utf8").matchAll(/"(calldrop_[a-z_]+)"/g)].map((m) => m[1]),
    ),
  );
  const missing = Object.keys(METRICS).filter((name) => !registered.has(name));
  assert.deepEqual(missing, [], "metrics in k8s/tools/metrics-catalog.ts that src/ never registers");
});
