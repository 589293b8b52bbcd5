/**
 * Code cites the spec in the repo (docs/style.md 18): every `docs/spec.md §N` and `docs/style.md N` points at a
 * section or rule that exists, and nothing points at a document a reader of the repository cannot open.
 */
import assert from "node:assert/strict";
import { globSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

const root = join(import.meta.dirname, "..");
const read = (path: string) => readFileSync(join(root, path), "utf8");
const sources = ["src", "test", "web/src", "bench", "scripts", "k8s"]
  .flatMap((dir) => globSync(`${dir}/**/*.{ts,js,yaml,md}`, { cwd: root }))
  .concat(["README.md"], globSync("docs/*.md", { cwd: root }));

const specSections = new Set([...read("docs/spec.md").matchAll(/^## §(\d+) /gm)].map((m) => Number(m[1])));
const styleRules = new Set([...read("docs/style.md").matchAll(/^(\d+)\. \*\*/gm)].map((m) => Number(m[1])));

test("the spec's sections and the style rules are numbered without gaps", () => {
  assert.deepEqual(
    [...specSections],
    Array.from({ length: specSections.size }, (_, i) => i + 1),
  );
  assert.deepEqual(
    [...styleRules],
    Array.from({ length: styleRules.size }, (_, i) => i + 1),
  );
});

test("no file cites a document outside the repository", () => {
  const outside = sources.flatMap((file) =>
    read(file)
      .split("\n")
      .flatMap((line, i) =>
        /PRODUCT\.md|STYLE\.md|\.\.\/shared\//.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [],
      ),
  );
  assert.deepEqual(outside, []);
});

test("every citation of docs/spec.md and docs/style.md names a section that exists", () => {
  const broken: string[] = [];
  for (const file of sources) {
    const text = read(file);
    // "spec.md §3, §10" cites two sections; "style.md 9" one rule.
    for (const m of text.matchAll(/spec\.md((?:,? ?§\d+)+)/g)) {
      for (const n of m[1]?.matchAll(/§(\d+)/g) ?? []) {
        if (!specSections.has(Number(n[1]))) broken.push(`${file}: spec.md §${n[1]}`);
      }
    }
    for (const m of text.matchAll(/style\.md (\d+)/g)) {
      if (!styleRules.has(Number(m[1]))) broken.push(`${file}: style.md ${m[1]}`);
    }
  }
  assert.deepEqual(broken, []);
});
