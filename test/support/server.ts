/**
 * Starts the real server (`node src/main.ts`) as a child process for end-to-end
 * tests: a free port, a private SQLite file, the web client freshly built into a
 * temp dir (so parallel test files never race on web/dist), and config overrides
 * as CALLDROP_* environment variables (src/config.ts).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

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

/** Starts a server; `env` adds config overrides, e.g. { CALLDROP_CALLS__RING_TIMEOUT_MS: "4000" }. */
export async function startServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "calldrop-e2e-"));
  buildWeb(join(dir, "web"));
  const child = spawn(node, ["src/main.ts"], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      CALLDROP_MODE: "local",
      CALLDROP_SERVER__PORT: "0",
      CALLDROP_SERVER__STATIC_DIR: join(dir, "web"),
      CALLDROP_STORE__SQLITE_PATH: join(dir, "calldrop.db"),
      CALLDROP_LOG__LEVEL: "info",
      ...env,
    },
  });
  const lines: string[] = [];
  const output = () => lines.slice(-80).join("\n");
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 20 s:\n${output()}`)), 20_000);
    const onLine = (line: string) => {
      lines.push(line);
      if (lines.length > 2000) lines.shift();
      if (!line.includes('"listening"')) return;
      try {
        const p = (JSON.parse(line) as { port?: number }).port;
        if (p) {
          clearTimeout(timer);
          resolve(p);
        }
      } catch {}
    };
    let buf = "";
    const feed = (chunk: Buffer) => {
      buf += chunk.toString();
      const parts = buf.split("\n");
      buf = parts.pop() ?? "";
      for (const l of parts) onLine(l);
    };
    child.stdout?.on("data", feed);
    child.stderr?.on("data", feed);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output()}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    output,
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}
