/**
 * etcd for the tests (docs/spec.md §13): Debian's `etcd-server`, installed when missing,
 * started on 127.0.0.1 with free non-default ports and a temporary data dir.
 * `launchEtcd` is also used by test/support/etcd-control.ts to start private
 * instances that a test may stop and restart.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureDebianPackage } from "./apt-install.ts";
import type { RunningService, TestService } from "./service.ts";

/** Where Debian's etcd-server puts the binary. */
export const ETCD_BIN = "/usr/bin/etcd";

/** A running (or stopped) etcd process with a fixed data dir and fixed ports. */
export interface EtcdProcess {
  /** host:port of the client listener, e.g. 127.0.0.1:23791. */
  readonly endpoint: string;
  readonly dataDir: string;
  /** Starts etcd again on the same ports and data (after `stop`); resolves once healthy. */
  start(): Promise<void>;
  /** Stops etcd (SIGTERM, or SIGKILL with `kill: true`) and waits for the exit; data is kept. */
  stop(options?: { kill?: boolean }): Promise<void>;
  /** Stops etcd and removes its data. */
  destroy(): Promise<void>;
}

/** Installs Debian's etcd-server unless the binary is already there. */
export function ensureEtcdInstalled(log: (line: string) => void): string {
  if (existsSync(ETCD_BIN)) return ETCD_BIN;
  ensureDebianPackage("etcd-server", ETCD_BIN, log);
  // The package enables a systemd unit on the default port 2379; we never use it, so stop it where systemd runs.
  if (existsSync("/run/systemd/system")) spawnSync("systemctl", ["disable", "--now", "etcd"], { stdio: "ignore" });
  return ETCD_BIN;
}

/** `count` distinct free TCP ports on 127.0.0.1. */
async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  const ports = await Promise.all(
    servers.map(
      (s) =>
        new Promise<number>((resolve, reject) => {
          s.once("error", reject);
          s.listen(0, "127.0.0.1", () => resolve((s.address() as { port: number }).port));
        }),
    ),
  );
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** Starts an etcd on free 127.0.0.1 ports with a fresh temporary data dir; resolves once healthy. */
export async function launchEtcd(bin: string = ETCD_BIN): Promise<EtcdProcess> {
  const [clientPort, peerPort] = await freePorts(2);
  const root = mkdtempSync(join(tmpdir(), "calldrop-etcd-"));
  const dataDir = join(root, "data");
  const logFile = join(root, "etcd.log");
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    ...["--name", "test", "--data-dir", dataDir],
    ...["--listen-client-urls", client, "--advertise-client-urls", client],
    ...["--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer],
    ...["--initial-cluster", `test=${peer}`, "--initial-cluster-state", "new"],
  ];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async () => {
    if (child) return;
    const fd = openSync(logFile, "a");
    const proc = spawn(bin, args, { stdio: ["ignore", fd, fd] });
    closeSync(fd);
    child = proc;
    // Never outlive the process that launched it (a bench or test stopped by a signal exits without its finally).
    const orphaned = () => proc.kill("SIGKILL");
    process.once("exit", orphaned);
    exited = new Promise((resolve) => {
      const gone = () => {
        process.off("exit", orphaned);
        if (child === proc) child = undefined;
        resolve();
      };
      proc.once("exit", gone);
      proc.once("error", gone); // e.g. the binary is missing: reported by the health loop below
    });
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
      if (child !== proc) throw new Error(`etcd exited at start; log tail:\n${tail(logFile)}`);
      if (await healthy(client)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`etcd not healthy after 30 s; log tail:\n${tail(logFile)}`);
  };
  const stop = async (options: { kill?: boolean } = {}) => {
    const proc = child;
    if (!proc) return;
    proc.kill(options.kill ? "SIGKILL" : "SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  };
  await start();
  return {
    endpoint: `127.0.0.1:${clientPort}`,
    dataDir,
    start,
    stop,
    async destroy() {
      await stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

async function healthy(client: string): Promise<boolean> {
  try {
    const res = await fetch(`${client}/health`, { signal: AbortSignal.timeout(1_000) });
    return res.ok && ((await res.json()) as { health?: string }).health === "true";
  } catch {
    return false;
  }
}

function tail(file: string): string {
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").slice(-20).join("\n") : "(no log)";
}

/** The shared etcd of `npm test`: CALLDROP_TEST_ETCD=host:port, CALLDROP_TEST_ETCD_BIN=path of the binary. */
const etcdService: TestService = {
  name: "etcd",
  async start(log): Promise<RunningService> {
    const bin = ensureEtcdInstalled(log);
    const etcd = await launchEtcd(bin);
    log(`listening on ${etcd.endpoint}, data in ${etcd.dataDir}`);
    return {
      env: { CALLDROP_TEST_ETCD: etcd.endpoint, CALLDROP_TEST_ETCD_BIN: bin },
      stop: () => etcd.destroy(),
    };
  },
};

export default etcdService;
