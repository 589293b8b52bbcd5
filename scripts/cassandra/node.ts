/**
 * A one-node Apache Cassandra 5.0 on 127.0.0.1 for tests and benches: jars from Maven Central
 * (scripts/cassandra/pom.xml, cached under the tooling cache, scripts/cache-dir.ts), Java 17, the repo's
 * cassandra.yaml with free ports, data in a temporary directory that `stop()` removes.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { cacheDir } from "../cache-dir.ts";
import { ensureCommand } from "../services/apt-install.ts";
import { jvmOptions } from "./jvm-options.ts";

const here = import.meta.dirname;
const run = promisify(execFile);

/** Where the jars for the current pom.xml live (a new pom gets a new directory). */
export function jarsDir(): string {
  const pom = readFileSync(join(here, "pom.xml"));
  const key = createHash("sha256").update(pom).digest("hex").slice(0, 12);
  return cacheDir("cassandra", key, "lib");
}

/** Fetches cassandra-all and its runtime dependencies with Maven unless already cached. */
export async function ensureJars(log: (line: string) => void): Promise<string> {
  const lib = jarsDir();
  if (existsSync(join(lib, ".complete"))) return lib;
  const partial = `${lib}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const mvn = ensureCommand("mvn", "maven", log);
  log(`fetching Cassandra jars from Maven Central into ${lib}`);
  const t0 = Date.now();
  await run(
    mvn,
    [
      "-B",
      "-q",
      "-f",
      join(here, "pom.xml"),
      "org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies",
      "-DincludeScope=runtime",
      `-DoutputDirectory=${partial}`,
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  if (!readdirSync(partial).some((f) => f.startsWith("cassandra-all-"))) {
    throw new Error(`mvn finished but ${partial} has no cassandra-all jar`);
  }
  writeFileSync(join(partial, ".complete"), `${new Date().toISOString()}\n`);
  rmSync(lib, { recursive: true, force: true });
  renameSync(partial, lib);
  log(`fetched ${readdirSync(lib).length - 1} jars in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return lib;
}

/** A free TCP port on 127.0.0.1 (free when asked; Cassandra binds it moments later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Options of a test node. */
export interface NodeOptions {
  readonly log: (line: string) => void;
  /** Heap size; 512 MiB is enough for tests. */
  readonly heapMb?: number;
  /** C1 only: starts faster, runs slower (tests yes, benches no). */
  readonly quickStart?: boolean;
  /**
   * "group" (default): a write is acknowledged once its commit log is on disk, so a single node
   * keeps acknowledged writes through kill -9. "periodic": Cassandra's production default
   * (fsync every 10 s; durability comes from replicas), for benches.
   */
  readonly commitlogSync?: "group" | "periodic";
  /** Give up waiting for CQL after this long. */
  readonly startTimeoutMs?: number;
}

/** A running (or stopped, restartable) node. */
export interface CassandraNode {
  /** host:port of the CQL native transport. */
  readonly contactPoint: string;
  readonly dir: string;
  /** Current JVM pid, or undefined while stopped. */
  pid(): number | undefined;
  /** Kills the JVM abruptly (SIGKILL) and waits for it to exit; data stays. */
  kill(): Promise<void>;
  /** Starts it again on the same ports and data; resolves once CQL answers. */
  restart(): Promise<void>;
  /** Stops the JVM (SIGTERM, then SIGKILL) and removes its directory. */
  stop(): Promise<void>;
}

/** Starts one node; resolves once `SELECT release_version FROM system.local` answers. */
export async function startNode(options: NodeOptions): Promise<CassandraNode> {
  const lib = await ensureJars(options.log);
  // Cassandra 5.0 runs on Java 11 or 17; Debian 12's headless JRE is 17.
  const java = ensureCommand("java", "openjdk-17-jre-headless", options.log);
  const dir = mkdtempSync(join(tmpdir(), "calldrop-cassandra-"));
  const nativePort = await freePort();
  const storagePort = await freePort();
  const yaml = readFileSync(join(here, "cassandra.yaml"), "utf8")
    .replace(/^storage_port: \d+$/m, `storage_port: ${storagePort}`)
    .replace(/^native_transport_port: \d+$/m, `native_transport_port: ${nativePort}`)
    .replace(/seeds: "127\.0\.0\.1:\d+"/, `seeds: "127.0.0.1:${storagePort}"`)
    .replace(
      /^commitlog_sync: group\ncommitlog_sync_group_window: .*$/m,
      options.commitlogSync === "periodic" ? "commitlog_sync: periodic\ncommitlog_sync_period: 10000ms" : "$&",
    );
  writeFileSync(join(dir, "cassandra.yaml"), yaml);
  const args = [
    ...jvmOptions({ lib, dir, heapMb: options.heapMb ?? 512, quickStart: options.quickStart ?? true }),
    "-cp",
    `${join(here, "conf")}:${lib}/*`,
    "org.apache.cassandra.service.CassandraDaemon",
  ];
  const contactPoint = `127.0.0.1:${nativePort}`;
  let child: ChildProcess | undefined;
  let watchdog: ChildProcess | undefined;
  const killOnExit = () => child?.pid && process.kill(child.pid, "SIGKILL");

  const launch = async () => {
    // Output goes to a file in the node's directory, not through pipes: nothing of this
    // process depends on the JVM's descriptors, and the tail is there for a failure message.
    const logPath = join(dir, "cassandra.out");
    const out = openSync(logPath, "a");
    const jvm = spawn(java, args, { cwd: dir, stdio: ["ignore", out, out] });
    closeSync(out);
    child = jvm;
    // If this process dies without cleaning up (SIGKILL, test timeout), take the JVM with it.
    watchdog = spawn(
      "sh",
      ["-c", `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${jvm.pid}; do sleep 1; done; kill -9 ${jvm.pid}`],
      { detached: true, stdio: "ignore" },
    );
    watchdog.unref();
    process.on("exit", killOnExit);
    const exited = new Promise<never>((_, reject) =>
      jvm.once("exit", (code, signal) =>
        reject(new Error(`Cassandra exited (${code ?? signal}) before CQL answered:\n${tailOf(logPath)}`)),
      ),
    );
    exited.catch(() => {});
    await Promise.race([waitForCql(contactPoint, options.startTimeoutMs ?? 240_000), exited]);
  };

  const halt = async (signal: NodeJS.Signals) => {
    const jvm = child;
    child = undefined;
    process.off("exit", killOnExit);
    if (watchdog?.pid) {
      try {
        process.kill(watchdog.pid, "SIGKILL");
      } catch {}
    }
    if (!jvm || jvm.exitCode !== null || jvm.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => jvm.once("exit", () => resolve()));
    jvm.kill(signal);
    const timer = setTimeout(() => jvm.kill("SIGKILL"), 20_000);
    await gone;
    clearTimeout(timer);
  };

  const t0 = Date.now();
  try {
    await launch();
  } catch (e) {
    await halt("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  options.log(`Cassandra up on ${contactPoint} in ${((Date.now() - t0) / 1000).toFixed(1)} s (dir ${dir})`);
  return {
    contactPoint,
    dir,
    pid: () => child?.pid,
    kill: () => halt("SIGKILL"),
    restart: async () => {
      await halt("SIGKILL");
      const t1 = Date.now();
      await launch();
      options.log(`Cassandra restarted on ${contactPoint} in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
    },
    stop: async () => {
      await halt("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The last 4 000 characters of the node's output. */
function tailOf(path: string): string {
  try {
    return readFileSync(path, "utf8").slice(-4000);
  } catch {
    return "(no output)";
  }
}

/**
 * Polls until the node answers a CQL OPTIONS request with SUPPORTED on `contactPoint`, or throws
 * after `timeoutMs`. A raw frame, not the driver: a driver client whose connect fails half-way
 * keeps timers alive after shutdown (and so would keep this process from exiting).
 */
async function waitForCql(contactPoint: string, timeoutMs: number): Promise<void> {
  const [host = "127.0.0.1", port = "9042"] = contactPoint.split(":");
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    try {
      if (await cqlOptions(host, Number(port))) return;
      last = "unexpected answer to OPTIONS";
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`Cassandra did not answer CQL on ${contactPoint} within ${timeoutMs} ms: ${last}`);
}

/** Sends a protocol v4 OPTIONS frame; true when the reply is a SUPPORTED frame. */
function cqlOptions(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, timeout: 2000 });
    let reply = Buffer.alloc(0);
    socket.once("connect", () => socket.write(Buffer.from([0x04, 0, 0, 0, 0x05, 0, 0, 0, 0])));
    socket.on("data", (chunk: Buffer) => {
      reply = Buffer.concat([reply, chunk]);
      if (reply.length >= 9) {
        socket.destroy();
        resolve(reply[0] === 0x84 && reply[4] === 0x06);
      }
    });
    socket.once("timeout", () => socket.destroy(new Error("timeout")));
    socket.once("error", reject);
    socket.once("close", () => resolve(false));
  });
}
