/**
 * The CALLDROP_CONFIG JSON file layer (src/config.ts): defaults < file < environment, and a file
 * with an unknown key stops the boot with a readable error and a non-zero exit code.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { startServer } from "./support/server-process.ts";

const dir = mkdtempSync(join(tmpdir(), "calldrop-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `content` as a config file; its path. */
function configFile(name: string, content: object): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

/** The dev token lifetime a server reports (auth.devTokenTtlS). */
async function devTokenTtl(env: Record<string, string>): Promise<number> {
  const server = await startServer(env);
  try {
    const res = await fetch(`${server.baseUrl}/dev/token?user=alice`);
    assert.equal(res.status, 200);
    return ((await res.json()) as { expiresInS: number }).expiresInS;
  } finally {
    await server.stop();
  }
}

describe("the CALLDROP_CONFIG file", () => {
  test("its values replace the defaults, and environment variables replace its values", async () => {
    const file = configFile("ttl.json", { auth: { devTokenTtlS: 777 } });
    assert.equal(await devTokenTtl({ CALLDROP_CONFIG: file }), 777);
    assert.equal(await devTokenTtl({ CALLDROP_CONFIG: file, CALLDROP_AUTH__DEV_TOKEN_TTL_S: "888" }), 888);
  });

  test("an unknown key stops the boot with a readable error naming it and a non-zero exit code", async () => {
    const file = configFile("unknown.json", { sessions: { bufferSzie: 64 } });
    await assert.rejects(startServer({ CALLDROP_CONFIG: file }), (err: Error) => {
      assert.match(err.message, /server exited with [1-9]\d*:/);
      assert.match(err.message, /invalid configuration/);
      assert.match(err.message, /bufferSzie/);
      return true;
    });
  });
});
