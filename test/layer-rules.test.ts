/**
 * The layer rules of docs/style.md rule 1 (`.dependency-cruiser.cjs`, run by `npm run lint`) catch
 * what they say: each case cruises a small tree that breaks one rule and expects that rule reported.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";

const root = join(import.meta.dirname, "..");
const bin = join(root, "node_modules/.bin/depcruise");
const config = join(root, ".dependency-cruiser.cjs");
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Cruises a tree of `files` (path → source) with the project's rules; the exit status and report. */
function cruise(files: Record<string, string>): { status: number | null; report: string } {
  const dir = mkdtempSync(join(tmpdir(), "calldrop-layers-"));
  dirs.push(dir);
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { allowImportingTsExtensions: true } }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const r = spawnSync(bin, ["src", "--config", config, "--output-type", "err"], { cwd: dir, encoding: "utf8" });
  return { status: r.status, report: r.stdout + r.stderr };
}

describe("layer rules", () => {
  it("pass a tree that points inward", () => {
    const r = cruise({
      "src/domain/rules.ts": "export const rule = 1;\n",
      "src/app/use-case.ts": 'import { rule } from "../domain/rules.ts";\nexport const useCase = rule;\n',
      "src/transport/handler.ts": 'import { useCase } from "../app/use-case.ts";\nexport const h = useCase;\n',
      "src/adapters/store.ts": 'import { useCase } from "../app/use-case.ts";\nexport const s = useCase;\n',
    });
    assert.equal(r.status, 0, r.report);
  });

  it("report an adapter importing transport", () => {
    const r = cruise({
      "src/transport/mapping.ts": "export const map = 1;\n",
      "src/adapters/peer-codec.ts": 'import { map } from "../transport/mapping.ts";\nexport const c = map;\n',
    });
    assert.notEqual(r.status, 0);
    assert.match(r.report, /adapters-not-transport: src\/adapters\/peer-codec\.ts → src\/transport\/mapping\.ts/);
  });

  it("report the domain doing I/O", () => {
    const r = cruise({
      "src/domain/rules.ts": 'import { readFileSync } from "node:fs";\nexport const f = readFileSync;\n',
    });
    assert.notEqual(r.status, 0);
    assert.match(r.report, /domain-is-pure: src\/domain\/rules\.ts → (node:)?fs/);
  });

  it("report the app binding a node module or reaching into an adapter", () => {
    const r = cruise({
      "src/adapters/ids.ts": "export const id = 1;\n",
      "src/app/session-hub.ts":
        'import { randomUUID } from "node:crypto";\nimport { id } from "../adapters/ids.ts";\nexport const s = [randomUUID, id];\n',
    });
    assert.notEqual(r.status, 0);
    assert.match(r.report, /app-binds-no-library: src\/app\/session-hub\.ts → (node:)?crypto/);
    assert.match(r.report, /app-points-inward: src\/app\/session-hub\.ts → src\/adapters\/ids\.ts/);
  });

  it("report the codec importing transport", () => {
    const r = cruise({
      "src/transport/error-codes.ts": "export const code = 1;\n",
      "src/codec/proto-mapping.ts": 'import { code } from "../transport/error-codes.ts";\nexport const m = code;\n',
    });
    assert.notEqual(r.status, 0);
    assert.match(r.report, /codec-between-layers: src\/codec\/proto-mapping\.ts → src\/transport\/error-codes\.ts/);
  });
});
