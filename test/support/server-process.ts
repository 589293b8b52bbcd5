/**
 * Starts the real server (`node src/main.ts`) as a child process on a free port,
 * with config overrides through CALLDROP_* variables, and collects its log lines.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";

const root = join(import.meta.dirname, "..", "..");

/** The secret test servers verify tokens with, so tests can mint any token (expired ones too). */
export const testJwtSecret = "calldrop-test-secret-0123456789abcdef0123456789";

/** A running server process. */
export interface ServerProcess {
  readonly baseUrl: string;
  readonly port: number;
  /** Parsed JSON log lines so far. */
  readonly logs: Record<string, unknown>[];
  /** Signs a token for `userId` (exp in seconds from now; negative = already expired). */
  token(userId: string, expiresInS?: number): Promise<string>;
  /** Signs a service token (docs/spec.md §9) for `service` with the space-separated `scope`. */
  serviceToken(service: string, scope: string, expiresInS?: number): Promise<string>;
  /** Stops the process (SIGTERM, then SIGKILL) and removes its data unless `keepData`. */
  stop(options?: { keepData?: boolean; signal?: NodeJS.Signals }): Promise<void>;
  readonly dataDir: string;
  /** The process id (for CPU accounting in benches). */
  readonly pid: number;
}

/** Starts a server; `env` adds CALLDROP_* overrides (undefined unsets one, e.g. the test JWT secret). */
export async function startServer(
  env: Record<string, string | undefined> = {},
  dataDir?: string,
): Promise<ServerProcess> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), "calldrop-it-"));
  const child: ChildProcess = spawn(join(root, "node_modules/.bin/node"), ["src/main.ts"], {
    cwd: root,
    env: withoutUnset({
      ...process.env,
      CALLDROP_SERVER__PORT: "0",
      CALLDROP_AUTH__HMAC_SECRET: testJwtSecret,
      CALLDROP_STORE__SQLITE_PATH: join(dir, "calls.db"),
      CALLDROP_STORE__OUTBOX_PATH: join(dir, "outbox.db"),
      CALLDROP_LOG__LEVEL: "info",
      CALLDROP_SERVER__DRAIN_TIMEOUT_MS: "1000",
      ...env,
    }),
    stdio: ["ignore", "pipe", process.env.SERVER_STDERR ? "inherit" : "pipe"],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const port = await new Promise<number>((resolve, reject) => {
    let pending = "";
    // Only catches a server that never comes up (a start takes 1–3 s; a loaded CI machine, several times that).
    const timer = setTimeout(() => {
      child.kill("SIGKILL"); // a late start must not outlive the test file and keep it running
      reject(new Error(`server did not start within 60 s: ${stderr}`));
    }, 60_000);
    child.once("exit", (code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
    child.stdout?.on("data", (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.startsWith("{")) continue;
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === "listening") {
          clearTimeout(timer);
          resolve(Number(entry.port));
        }
      }
    });
  });
  const secret = new TextEncoder().encode(testJwtSecret);
  const sign = (claims: Record<string, string>, subject: string, expiresInS: number) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(subject)
      .setIssuer("calldrop-dev")
      .setAudience("calldrop-calling")
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInS)
      .sign(secret);
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    logs,
    dataDir: dir,
    pid: child.pid ?? 0,
    token: (userId, expiresInS = 600) => sign({}, userId, expiresInS),
    serviceToken: (service, scope, expiresInS = 600) => sign({ kind: "service", scope }, service, expiresInS),
    async stop(options = {}) {
      // A process killed by a signal has a signalCode and no exitCode; it has exited too.
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill(options.signal ?? "SIGTERM");
        const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        await exited;
        clearTimeout(killer);
      }
      if (!options.keepData) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function withoutUnset(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}
