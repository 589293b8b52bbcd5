/**
 * Call setup time in real browsers (docs/spec.md §12: accept → media connected,
 * p95 < 1 s on loopback, P2P and TURN). Two headless Debian Chromiums, the real
 * server and a real coturn on 127.0.0.1; N calls P2P, then N calls with the
 * relay-only setting on both sides. Setup = from the callee's Accept click to the
 * later of the two peers' RTCPeerConnection "connected".
 *
 *   node_modules/.bin/node bench/browser-setup.ts [calls per mode, default 20]
 *
 * Prints a Markdown table and writes bench/results/browser-setup.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureDebianPackage } from "../scripts/services/apt-install.ts";
import { startCoturn } from "../scripts/services/coturn.ts";
import { call, callState, signIn, waitForCall } from "../test/support/app-driver.ts";
import { launchPeer, type Peer } from "../test/support/browser.ts";
import { startServer } from "../test/support/server.ts";

const N = Number(process.argv[2] ?? 20);
const log = (line: string) => process.stderr.write(`[browser-setup] ${line}\n`);

process.env.CALLDROP_TEST_CHROMIUM ??= ensureDebianPackage("chromium", "/usr/bin/chromium", log);
const turn = await startCoturn(log);
const server = await startServer({
  CALLDROP_ICE__TURN_URLS: JSON.stringify([`turn:127.0.0.1:${turn.port}?transport=udp`]),
  CALLDROP_ICE__TURN_SECRET: JSON.stringify(turn.secret),
  CALLDROP_LOG__LEVEL: "info",
  // The bench makes calls back to back; the default limit (a burst of 5, then 1 per 5 s) would throttle it.
  CALLDROP_LIMITS__CALL_STARTS_BURST: "1000",
  CALLDROP_LIMITS__CALL_STARTS_PER_SECOND: "100",
});
const [alice, bob] = await Promise.all([launchPeer("alice"), launchPeer("bob")]);

/** One call's measurements, ms. */
interface Sample {
  readonly mode: "p2p" | "relay";
  readonly setupMs: number;
  readonly callerReportedMs: number;
  readonly calleeReportedMs: number;
}

async function oneCall(mode: Sample["mode"]): Promise<Sample> {
  await call(alice.page, "bob");
  await bob.page.getByTestId("accept").waitFor({ state: "visible" });
  await bob.page.getByTestId("accept").click();
  const a = await waitForCall(alice.page, "caller connected", (c) => c.phase === "connected");
  const b = await waitForCall(bob.page, "callee connected", (c) => c.phase === "connected");
  if (a.path !== mode || b.path !== mode) throw new Error(`expected ${mode}, got ${a.path}/${b.path}`);
  const setupMs = Math.max(a.connectedAtMs ?? 0, b.connectedAtMs ?? 0) - (b.acceptAtMs ?? 0);
  await alice.page.getByTestId("hangup").click();
  await waitForCall(bob.page, "callee idle", (c) => c.phase === "idle");
  await waitForCall(alice.page, "caller idle", (c) => c.phase === "idle");
  await new Promise((r) => setTimeout(r, 300));
  return { mode, setupMs, callerReportedMs: a.setupMs ?? 0, calleeReportedMs: b.setupMs ?? 0 };
}

async function setRelayOnly(peers: Peer[], on: boolean): Promise<void> {
  for (const p of peers) {
    const box = p.page.getByTestId("relay-only");
    if (on) await box.check();
    else await box.uncheck();
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const samples: Sample[] = [];
try {
  await signIn(alice.page, server.url, "alice");
  await signIn(bob.page, server.url, "bob");
  for (const mode of ["p2p", "relay"] as const) {
    await setRelayOnly([alice, bob], mode === "relay");
    await oneCall(mode); // warm-up, not counted
    for (let i = 0; i < N; i++) {
      const s = await oneCall(mode);
      samples.push(s);
      log(`${mode} #${i + 1}: ${s.setupMs} ms`);
    }
  }
  const rows = (["p2p", "relay"] as const).map((mode) => {
    const v = samples.filter((s) => s.mode === mode).map((s) => s.setupMs);
    return { mode, n: v.length, p50: percentile(v, 50), p95: percentile(v, 95), max: Math.max(...v) };
  });
  const table = [
    "| path | calls | p50 (ms) | p95 (ms) | max (ms) |",
    "|---|---|---|---|---|",
    ...rows.map((r) => `| ${r.mode === "p2p" ? "P2P" : "relay (coturn)"} | ${r.n} | ${r.p50} | ${r.p95} | ${r.max} |`),
  ].join("\n");
  process.stdout.write(`${table}\n`);
  const dir = join(import.meta.dirname, "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "browser-setup.json"),
    JSON.stringify({ at: new Date().toISOString(), rows, samples }, null, 2),
  );
  const last = await callState(alice.page);
  if (last.phase !== "idle") log(`warning: caller not idle at the end (${last.phase})`);
} finally {
  await Promise.all([alice.close(), bob.close()]);
  await server.stop();
  await turn.stop();
}
