/**
 * coturn (Debian `coturn`) on 127.0.0.1 for the relay tests: renders
 * coturn/turnserver.local.conf into a temp dir with free ports (TURN over UDP and TCP on
 * one, TURN over TLS on another, with a fresh self-signed certificate), puts a fresh
 * secret into its userdb with coturn/sync-secrets.sh (as production does, so the
 * secrets can rotate while it runs), starts `turnserver -c` (never the system
 * config), and exposes CALLDROP_TEST_TURN_URL / CALLDROP_TEST_TURNS_URL /
 * CALLDROP_TEST_TURN_SECRET. Run
 * directly to get one by hand.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureDebianPackage } from "./apt-install.ts";
import { writeSelfSignedCertificate } from "./self-signed-cert.ts";
import type { RunningService, TestService } from "./service.ts";

const TEMPLATE = join(import.meta.dirname, "../../coturn/turnserver.local.conf");
const SYNC_SECRETS = join(import.meta.dirname, "../../coturn/sync-secrets.sh");
/** The realm of the local coturn (its secrets in the userdb are per realm). */
const REALM = "calldrop.local";

/** Options of one coturn instance. */
export interface CoturnOptions {
  /** Per-session bandwidth cap, bytes/s (0 = none). */
  readonly maxBps?: number;
  readonly secret?: string;
}

/** A running coturn with its address. */
export interface RunningCoturn extends RunningService {
  /** TURN over UDP and TCP. */
  readonly port: number;
  /** TURN over TLS (`turns:`). */
  readonly tlsPort: number;
  /** The listener's self-signed certificate (PEM), for clients to trust. */
  readonly certificate: string;
  readonly secret: string;
  /** UDP, TCP and TLS URLs, in the order clients should try them (docs/spec.md §5). */
  readonly urls: readonly string[];
  /** Makes coturn accept exactly `secrets` from now on, without a restart (a key rotation). */
  setSecrets(secrets: readonly string[]): void;
}

/** Starts a private coturn on 127.0.0.1; resolves once it accepts connections. */
export async function startCoturn(log: (line: string) => void, options: CoturnOptions = {}): Promise<RunningCoturn> {
  const turnserver = ensureDebianPackage("coturn", "/usr/bin/turnserver", log);
  const dir = mkdtempSync(join(tmpdir(), "calldrop-coturn-"));
  const port = await freeTcpPort();
  const tlsPort = await freeTcpPort();
  const minPort = 20_000 + Math.floor(Math.random() * 400) * 100;
  const secret = options.secret ?? randomBytes(24).toString("hex");
  const vars: Record<string, string> = {
    PORT: String(port),
    TLS_PORT: String(tlsPort),
    MIN_PORT: String(minPort),
    MAX_PORT: String(minPort + 99),
    MAX_BPS: String(options.maxBps ?? 0),
    DIR: dir,
    REALM,
  };
  const setSecrets = (secrets: readonly string[]) => {
    writeFileSync(join(dir, "secrets"), `${secrets.join("\n")}\n`, { mode: 0o600 });
    execFileSync(SYNC_SECRETS, [join(dir, "secrets"), join(dir, "turndb"), REALM], { stdio: "pipe" });
  };
  const conf = readFileSync(TEMPLATE, "utf8").replace(/\$\{(\w+)\}/g, (_, k: string) => {
    const v = vars[k];
    if (v === undefined) throw new Error(`coturn template: unknown placeholder ${k}`);
    return v;
  });
  writeFileSync(join(dir, "turnserver.conf"), conf);
  const tls = writeSelfSignedCertificate(dir, "127.0.0.1");
  setSecrets([secret]);
  const child = spawn(turnserver, ["-c", join(dir, "turnserver.conf")], { stdio: ["ignore", "pipe", "pipe"] });
  const tail: string[] = [];
  const keep = (b: Buffer) => {
    tail.push(b.toString());
    if (tail.length > 50) tail.shift();
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  try {
    await waitForPort(port, child, 10_000);
    await waitForPort(tlsPort, child, 10_000);
  } catch (e) {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`coturn did not start: ${String(e)}\n${tail.join("")}`);
  }
  log(`coturn on 127.0.0.1:${port}, TLS ${tlsPort} (relay ports ${minPort}-${minPort + 99}, max-bps ${vars.MAX_BPS})`);
  const urls = [
    `turn:127.0.0.1:${port}?transport=udp`,
    `turn:127.0.0.1:${port}?transport=tcp`,
    `turns:127.0.0.1:${tlsPort}?transport=tcp`,
  ];
  return {
    port,
    tlsPort,
    certificate: readFileSync(tls.cert, "utf8"),
    secret,
    urls,
    setSecrets,
    env: {
      CALLDROP_TEST_TURN_URL: `turn:127.0.0.1:${port}`,
      CALLDROP_TEST_TURNS_URL: `turns:127.0.0.1:${tlsPort}`,
      CALLDROP_TEST_TURN_SECRET: secret,
    },
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
  const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
  await exited;
  clearTimeout(timer);
}

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`turnserver exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listening on ${port} after ${timeoutMs} ms`);
}

const coturn: TestService = { name: "coturn", start: (log) => startCoturn(log) };

export default coturn;

if (import.meta.main) {
  const running = await startCoturn((line) => console.log(line));
  for (const [k, v] of Object.entries(running.env)) console.log(`${k}=${v}`);
  process.once("SIGINT", () => void running.stop().then(() => process.exit(0)));
}
