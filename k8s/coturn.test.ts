/**
 * coturn's configuration, checked with the real coturn: base/coturn/render-config.sh (the
 * init container's script) renders the config as it would in a pod, Debian's `turnserver`
 * (installed when missing) must start with it without rejecting a single option and answer
 * a STUN binding request, and the peer deny-list must cover every private / reserved range
 * while leaving public addresses relayable. watch-secrets.sh (the secrets-sync sidecar) must
 * apply edits of the mounted secrets file to a running coturn: Debian's `turnutils_uclient`
 * allocates with credentials of each secret (docs/key-rotation.md). With a certificate mounted,
 * the real coturn serves TURN over TLS (a STUN binding answered through a TLS handshake that
 * checks the certificate), on 443 in the pod.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, BlockList, createServer, isIPv6 } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { connect as tlsConnect } from "node:tls";
import { writeSelfSignedCertificate } from "../scripts/services/self-signed-cert.ts";
import { loadConfig } from "../src/config.ts";
import { waitFor } from "../test/support/wait-for.ts";
import { debianBinaryInstalled } from "./tools/debian.ts";

const dir = join(import.meta.dirname, "base/coturn");
const template = join(dir, "turnserver.conf");
let work = "";

/** Runs render-config.sh with test paths; returns the rendered config. */
function render(env: Record<string, string>): string {
  const out = join(work, `turnserver-${randomBytes(4).toString("hex")}.conf`);
  const r = spawnSync("sh", [join(dir, "render-config.sh")], {
    encoding: "utf8",
    env: {
      PATH: process.env.PATH,
      COTURN_TEMPLATE: template,
      COTURN_TLS_DIR: join(work, "no-tls"),
      COTURN_OUT: out,
      ...env,
    },
  });
  assert.equal(r.status, 0, r.stderr);
  return readFileSync(out, "utf8");
}

const option = (conf: string, name: string) =>
  conf
    .split("\n")
    .filter((l) => l.startsWith(`${name}=`) || l === name)
    .map((l) => l.slice(name.length + 1));

/** Sends a STUN Binding request; resolves with the XOR-MAPPED-ADDRESS port of the reply. */
async function stunBinding(port: number, timeoutMs: number): Promise<number> {
  const sock = createSocket("udp4");
  const txid = randomBytes(12);
  const request = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]), txid]);
  try {
    return await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no STUN reply")), timeoutMs);
      sock.on("message", (msg) => {
        if (msg.readUInt16BE(0) !== 0x0101 || !msg.subarray(8, 20).equals(txid)) return;
        for (let at = 20; at + 4 <= msg.length; at += 4 + Math.ceil(msg.readUInt16BE(at + 2) / 4) * 4) {
          if (msg.readUInt16BE(at) === 0x0020) {
            clearTimeout(timer);
            resolve(msg.readUInt16BE(at + 6) ^ 0x2112);
          }
        }
      });
      sock.bind(0, "127.0.0.1", () => sock.send(request, port, "127.0.0.1"));
    });
  } finally {
    sock.close();
  }
}

/** A STUN Binding request over TLS to 127.0.0.1:`port`, trusting `ca` only; resolves with the mapped port. */
function stunOverTls(port: number, ca: Buffer | undefined, timeoutMs: number): Promise<number> {
  const txid = randomBytes(12);
  const request = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]), txid]);
  return new Promise<number>((resolve, reject) => {
    const sock = tlsConnect({ host: "127.0.0.1", port, ...(ca ? { ca } : {}) }, () => sock.write(request));
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error("no STUN reply over TLS"));
    }, timeoutMs);
    let got = Buffer.alloc(0);
    sock.on("data", (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length < 20 || got.length < 20 + got.readUInt16BE(2)) return;
      clearTimeout(timer);
      sock.destroy();
      if (got.readUInt16BE(0) !== 0x0101 || !got.subarray(8, 20).equals(txid)) {
        reject(new Error("not a binding answer"));
        return;
      }
      for (let at = 20; at + 4 <= got.length; at += 4 + Math.ceil(got.readUInt16BE(at + 2) / 4) * 4) {
        if (got.readUInt16BE(at) === 0x0020) resolve(got.readUInt16BE(at + 6) ^ 0x2112);
      }
      reject(new Error("no XOR-MAPPED-ADDRESS"));
    });
    sock.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

async function freeTcpPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", r));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

before(() => {
  work = mkdtempSync(join(tmpdir(), "k8s-coturn-"));
});
after(() => rmSync(work, { recursive: true, force: true }));

describe("render-config.sh", () => {
  it("appends node address and plain TURN when no certificate is mounted, and no secret", () => {
    const conf = render({ NODE_IP: "192.0.2.10" });
    assert.ok(conf.startsWith(readFileSync(template, "utf8")));
    assert.deepEqual(option(conf, "listening-ip"), ["192.0.2.10"]);
    assert.deepEqual(option(conf, "relay-ip"), ["192.0.2.10"]);
    assert.deepEqual(option(conf, "static-auth-secret"), [], "the secrets are in the userdb, where they can rotate");
    assert.deepEqual(option(conf, "external-ip"), []);
    assert.ok(conf.includes("\nno-tls\n") && conf.includes("\nno-dtls\n"));
  });

  it("enables TLS when a certificate is mounted, and maps a public address when given", () => {
    const tls = join(work, "tls");
    mkdirSync(tls, { recursive: true });
    writeFileSync(join(tls, "tls.crt"), "cert");
    writeFileSync(join(tls, "tls.key"), "key");
    const conf = render({ NODE_IP: "10.0.0.5", EXTERNAL_IP: "198.51.100.7", COTURN_TLS_DIR: tls });
    assert.deepEqual(option(conf, "cert"), [join(tls, "tls.crt")]);
    assert.deepEqual(option(conf, "pkey"), [join(tls, "tls.key")]);
    assert.deepEqual(option(conf, "external-ip"), ["198.51.100.7/10.0.0.5"]);
    assert.ok(!conf.includes("\nno-tls\n"));
  });

  it("refuses to render without the node address", () => {
    const r = spawnSync("sh", [join(dir, "render-config.sh")], { encoding: "utf8", env: { PATH: process.env.PATH } });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /NODE_IP/);
  });
});

describe("turnserver.conf policy", () => {
  const conf = () => readFileSync(template, "utf8");

  it("uses time-limited REST credentials and caps bandwidth per session and the relay port range", () => {
    assert.deepEqual(option(conf(), "use-auth-secret"), [""]);
    assert.deepEqual(option(conf(), "lt-cred-mech"), [], "no static long-term users");
    assert.deepEqual(option(conf(), "max-bps"), ["500000"]);
    assert.deepEqual(
      option(conf(), "max-bps"),
      [String(loadConfig({}).ice.relayMaxBps)],
      "the cap signaling is configured with by default (ice.relayMaxBps, src/config.ts)",
    );
    assert.deepEqual([option(conf(), "min-port"), option(conf(), "max-port")], [["49152"], ["65535"]]);
    assert.deepEqual(option(conf(), "static-auth-secret"), [], "the secret is never in the file");
  });

  it("serves TURN over UDP and TCP on 3478 and over TLS on 443, TLS 1.2 or newer (docs/spec.md §5)", () => {
    assert.deepEqual(option(conf(), "listening-port"), ["3478"]);
    assert.deepEqual(option(conf(), "tls-listening-port"), ["443"]);
    for (const off of ["no-udp", "no-tcp", "no-tls"]) assert.deepEqual(option(conf(), off), [], `no ${off}`);
    assert.deepEqual([option(conf(), "no-tlsv1"), option(conf(), "no-tlsv1_1")], [[""], [""]]);
  });

  it("denies relaying to loopback, private, link-local and reserved peers, but not to the internet", () => {
    // One list per family: coturn compares families first, whereas a single BlockList would
    // also match IPv4 addresses against the ::ffff:0:0/96 (IPv4-mapped) rule.
    const lists = { ipv4: new BlockList(), ipv6: new BlockList() };
    for (const range of option(conf(), "denied-peer-ip")) {
      const [from = "", to = from] = range.split("-");
      const family = isIPv6(from) ? "ipv6" : "ipv4";
      lists[family].addRange(from, to, family);
    }
    const deny = { check: (ip: string, family: "ipv4" | "ipv6") => lists[family].check(ip, family) };
    const denied = ["10.1.2.3", "172.16.5.4", "172.31.255.255", "192.168.1.1", "127.0.0.1", "127.8.8.8", "0.0.0.0"]
      .concat(["169.254.169.254", "100.64.1.1", "224.0.0.1", "255.255.255.255", "198.18.0.1"])
      .concat(["::1", "::", "fd12:3456::1", "fc00::1", "fe80::1", "::ffff:10.0.0.1", "64:ff9b::a00:1"]);
    for (const ip of denied) assert.ok(deny.check(ip, isIPv6(ip) ? "ipv6" : "ipv4"), `${ip} must be denied`);
    for (const ip of ["8.8.8.8", "1.1.1.1", "81.2.69.142", "2606:4700:4700::1111", "2a00:1450:4001::1"]) {
      assert.ok(!deny.check(ip, isIPv6(ip) ? "ipv6" : "ipv4"), `${ip} must stay relayable`);
    }
  });
});

/** A turnserver started on 127.0.0.1 with `conf`; collects its log. */
interface RunningTurn {
  output: () => string;
  /** XOR-MAPPED port of a STUN binding answer, or 0 when it never answered. */
  mapped: number;
  port: number;
  /** Its userdb (--db), where the TURN REST secrets live. */
  db: string;
  stop: () => Promise<void>;
}

async function startTurnserver(conf: string, extraArgs: readonly string[] = []): Promise<RunningTurn> {
  const turnserver = debianBinaryInstalled("coturn", "turnserver", (l) => process.stdout.write(`# ${l}\n`));
  const file = join(work, `live-${randomBytes(4).toString("hex")}.conf`);
  writeFileSync(file, conf);
  const port = await freeUdpPort();
  const args = ["-c", file, "--listening-port", String(port), "--log-file=stdout"];
  // Test-only paths (the pod passes /run/coturn/…): nothing is written outside the temp dir.
  args.push("--pidfile", `${file}.pid`, "--db", `${file}.db`, ...extraArgs);
  const proc: ChildProcess = spawn(turnserver, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  proc.stdout?.on("data", (d) => {
    output += d;
  });
  proc.stderr?.on("data", (d) => {
    output += d;
  });
  let mapped = 0;
  for (let i = 0; i < 50 && !mapped && proc.exitCode === null; i++) {
    mapped = await stunBinding(port, 200).catch(() => 0);
  }
  const stop = async () => {
    if (proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGTERM");
    await Promise.race([exited, sleep(3000)]);
    if (proc.exitCode === null) proc.kill("SIGKILL");
  };
  return { output: () => output, mapped, port, db: `${file}.db`, stop };
}

describe("real coturn (Debian turnserver)", () => {
  it("starts with the rendered config, rejects no option, loads every deny range, answers STUN", async () => {
    const turn = await startTurnserver(render({ NODE_IP: "127.0.0.1" }));
    try {
      assert.ok(turn.mapped > 0, `coturn answered no STUN binding request:\n${turn.output()}`);
      assert.doesNotMatch(turn.output(), /Bad configuration format|CONFIG ERROR/i, turn.output());
      assert.match(turn.output(), /500000 bytes per second allowed per session/);
      const denied = option(readFileSync(template, "utf8"), "denied-peer-ip");
      assert.equal(turn.output().match(/Black listing: /g)?.length ?? 0, denied.length, "every deny range loaded");
    } finally {
      await turn.stop();
    }
  });

  it("serves TURN over TLS with a mounted certificate: a STUN binding answered through a verified handshake", async () => {
    const tls = join(work, "tls-live");
    mkdirSync(tls, { recursive: true });
    writeSelfSignedCertificate(tls, "127.0.0.1");
    const tlsPort = await freeTcpPort();
    // 443 in the pod; a free port here (the test shares the machine).
    const turn = await startTurnserver(render({ NODE_IP: "127.0.0.1", COTURN_TLS_DIR: tls }), [
      "--tls-listening-port",
      String(tlsPort),
    ]);
    try {
      assert.ok(turn.mapped > 0, turn.output());
      assert.doesNotMatch(
        turn.output(),
        /Bad configuration format|CONFIG ERROR|cannot|ERROR: .*(cert|key)/i,
        turn.output(),
      );
      const ca = readFileSync(join(tls, "tls.crt"));
      const mapped = await waitFor(() => stunOverTls(tlsPort, ca, 2_000).catch(() => 0), {
        what: "a STUN binding answered over TLS",
        timeoutMs: 10_000,
        state: () => turn.output().slice(-2000),
      });
      assert.ok(mapped > 0);
      await assert.rejects(stunOverTls(tlsPort, undefined, 2_000), /self-signed|certificate/i, "the check is real");
    } finally {
      await turn.stop();
    }
  });

  it("would show a misspelt option (the check above is not vacuous)", async () => {
    const turn = await startTurnserver(`${render({ NODE_IP: "127.0.0.1" })}\nmax-bsp=1000\n`);
    try {
      assert.match(turn.output(), /Bad configuration format: max-bsp/);
    } finally {
      await turn.stop();
    }
  });
});

/** Whether coturn on 127.0.0.1:`port` grants an allocation to a REST credential of `secret`. */
function allocates(port: number, secret: string): boolean {
  const uclient = debianBinaryInstalled("coturn", "turnutils_uclient", (l) => process.stdout.write(`# ${l}\n`));
  const r = spawnSync(
    uclient,
    ["-y", "-n", "1", "-m", "1", "-l", "100", "-W", secret, "-p", String(port), "127.0.0.1"],
    {
      encoding: "utf8",
      timeout: 20_000,
    },
  );
  return r.status === 0;
}

describe("watch-secrets.sh (the secrets-sync sidecar) with a real coturn", () => {
  it("applies an added and then a removed secret to the running coturn, without a restart", async (t) => {
    const secrets = join(work, "secrets");
    /** As the kubelet does: the new file replaces the old one in one rename. */
    const mount = (lines: string[]) => {
      writeFileSync(`${secrets}.new`, `${lines.join("\n")}\n`);
      renameSync(`${secrets}.new`, secrets);
    };
    mount(["old-secret-0123456789"]);
    // turnutils_uclient relays to itself on 127.0.0.1, which the deny list (tested above) forbids.
    const conf = render({ NODE_IP: "127.0.0.1" }).replace(/^denied-peer-ip=.*\n/gm, "");
    const turn = await startTurnserver(`${conf}\nallow-loopback-peers\n`);
    const watcher = spawn("sh", [join(dir, "watch-secrets.sh")], {
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        PATH: process.env.PATH,
        COTURN_SECRETS_FILE: secrets,
        COTURN_DB: turn.db,
        COTURN_SYNC_SCRIPT: join(dir, "sync-secrets.sh"),
        COTURN_SYNC_INTERVAL_S: "1",
        COTURN_REALM: option(readFileSync(template, "utf8"), "realm")[0] ?? "",
      },
    });
    let log = "";
    watcher.stdout?.on("data", (d) => {
      log += d;
    });
    watcher.stderr?.on("data", (d) => {
      log += d;
    });
    t.after(async () => {
      watcher.kill("SIGTERM");
      await turn.stop();
    });
    const state = () => ({ log, coturn: turn.output().slice(-2000) });
    await waitFor(() => allocates(turn.port, "old-secret-0123456789"), {
      what: "the first secret applied",
      timeoutMs: 30_000,
      state,
    });
    assert.equal(allocates(turn.port, "new-secret-9876543210"), false, "an unknown secret is refused");

    mount(["new-secret-9876543210", "old-secret-0123456789"]);
    await waitFor(() => allocates(turn.port, "new-secret-9876543210"), {
      what: "the added secret applied",
      timeoutMs: 30_000,
      state,
    });
    assert.equal(allocates(turn.port, "old-secret-0123456789"), true, "the old secret still accepted");

    mount([""]);
    await waitFor(() => /not applied/.test(log), { what: "the empty file reported", timeoutMs: 30_000, state });
    assert.equal(allocates(turn.port, "new-secret-9876543210"), true, "an empty file leaves the secrets as they were");

    mount(["new-secret-9876543210"]);
    await waitFor(() => !allocates(turn.port, "old-secret-0123456789"), {
      what: "the old secret removed",
      timeoutMs: 30_000,
      state,
    });
    assert.equal(allocates(turn.port, "new-secret-9876543210"), true, "the new secret still accepted");
    assert.equal(watcher.exitCode, null, "the sidecar keeps running");
  });
});
