/**
 * The real server for browser tests: the web client freshly built into a temp dir
 * (so parallel test files never race on web/dist), served by a server process
 * started as in every other integration test (server-process.ts).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer as startServerProcess } from "./server-process.ts";

const root = join(import.meta.dirname, "../..");
const node = join(root, "node_modules/.bin/node");

/** A running server. */
export interface TestServer {
  readonly url: string;
  readonly port: number;
  /** The last lines the server printed (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** Builds the web client into `outDir` with Vite (about a second). */
export function buildWeb(outDir: string): void {
  const vite = join(root, "node_modules/.bin/vite");
  const r = spawnSync(node, [vite, "build", "web", "--outDir", outDir, "--emptyOutDir", "--logLevel", "warn"], {
    cwd: root,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`vite build failed: ${r.stderr}${r.stdout}`);
}

/** Starts a server serving a freshly built web client; `env` adds config overrides, e.g. { CALLDROP_CALLS__RING_TIMEOUT_MS: "4000" }. */
export async function startServer(env: Record<string, string> = {}): Promise<TestServer> {
  const web = mkdtempSync(join(tmpdir(), "calldrop-web-"));
  buildWeb(web);
  const server = await startServerProcess({ CALLDROP_SERVER__STATIC_DIR: web, ...env });
  return {
    url: server.baseUrl,
    port: server.port,
    output: () =>
      server.logs
        .slice(-80)
        .map((l) => JSON.stringify(l))
        .join("\n"),
    async stop() {
      await server.stop();
      rmSync(web, { recursive: true, force: true });
    },
  };
}
