/** Fails when gen/ differs from what `buf generate` makes of proto/ (CI guard, docs/style.md 14). */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = join(import.meta.dirname, "..");
const out = mkdtempSync(join(tmpdir(), "calldrop-gen-"));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

try {
  const r = spawnSync(
    "npx",
    [
      "buf",
      "generate",
      "--template",
      JSON.stringify({ version: "v2", plugins: [pluginFor(out)], inputs: [{ directory: "proto" }] }),
    ],
    { cwd: root, encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`buf generate failed: ${r.stderr}`);
  const fresh = new Map(files(out).map((f) => [relative(out, f), readFileSync(f, "utf8")]));
  const current = new Map(
    files(join(root, "gen")).map((f) => [relative(join(root, "gen"), f), readFileSync(f, "utf8")]),
  );
  const stale = [...new Set([...fresh.keys(), ...current.keys()])].filter((k) => fresh.get(k) !== current.get(k));
  if (stale.length > 0) {
    console.error(`gen/ is stale (run \`npm run gen\` and commit): ${stale.join(", ")}`);
    process.exitCode = 1;
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}

function pluginFor(dir: string) {
  const config = readFileSync(join(root, "buf.gen.yaml"), "utf8");
  const opts = [...config.matchAll(/^\s+- (\w+=[\w+]+)$/gm)].map((m) => m[1]);
  return { local: ["node", "node_modules/@bufbuild/protoc-gen-es/bin/protoc-gen-es"], out: dir, opt: opts };
}
