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
  /** Log lines of every process this server ran. */
  logs(): Record<string, unknown>[];
  /** Kills the process (SIGKILL, as a crash) and starts it again on the same port and data. */
  crash(): Promise<void>;
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
  const config = { CALLDROP_SERVER__STATIC_DIR: web, ...env };
  let server = await startServerProcess(config);
  const dead: Record<string, unknown>[] = [];
  return {
    url: server.baseUrl,
    port: server.port,
    output: () =>
      server.logs
        .slice(-80)
        .map((l) => JSON.stringify(l))
        .join("\n"),
    logs: () => [...dead, ...server.logs],
    async crash() {
      const { port, dataDir } = server;
      await server.stop({ keepData: true, signal: "SIGKILL" });
      dead.push(...server.logs);
      server = await startServerProcess({ ...config, CALLDROP_SERVER__PORT: String(port) }, dataDir);
    },
    async stop() {
      await server.stop();
      rmSync(web, { recursive: true, force: true });
    },
  };
}
