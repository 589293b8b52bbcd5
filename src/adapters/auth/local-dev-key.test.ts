import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadLocalDevKey } from "./local-dev-key.ts";

test("the local dev key is made once, owner-only, and read back on the next start", () => {
  const dir = mkdtempSync(join(tmpdir(), "calldrop-key-"));
  try {
    const path = join(dir, "data", "local-dev-key");
    const key = loadLocalDevKey(path);
    assert.ok(key.length >= 32);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(loadLocalDevKey(path), key);
    assert.equal(readFileSync(path, "utf8").trim(), key);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a damaged key file is reported, not silently replaced", () => {
  const dir = mkdtempSync(join(tmpdir(), "calldrop-key-"));
  try {
    const path = join(dir, "local-dev-key");
    writeFileSync(path, "short\n");
    assert.throws(() => loadLocalDevKey(path), /holds no key/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
