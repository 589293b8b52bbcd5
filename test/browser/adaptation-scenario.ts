/**
 * The adaptation scenario, run by adaptation.test.ts inside a private network
 * namespace (`unshare -n`, only `lo`), so shaping loopback affects nothing else:
 * a P2P call on 127.0.0.1, then an HTB class capping the caller's outgoing media
 * (UDP from its selected candidate port) with a short drop-tail queue, then the
 * cap lifted. Prints one line `RESULT <json>` with the caller's per-second
 * timeline (controller step, encoded resolution/fps, estimate, loss) and the phase
 * boundaries. Not a test file: it asserts nothing itself.
 */
import { execFileSync } from "node:child_process";
import { callState, connectedCall, type PageCall } from "../support/app-driver.ts";
import { launchPeer } from "../support/browser.ts";
import { startServer } from "../support/server.ts";

/** One second of the caller's view. */
export interface TimelinePoint {
  readonly t: number;
  readonly phase: "baseline" | "constrained" | "lifted";
  readonly step: number;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly bweKbps: number;
  readonly loss: number;
}

/** What the scenario prints. */
export interface ScenarioResult {
  readonly capKbps: number;
  readonly timeline: TimelinePoint[];
}

const CAP_KBPS = Number(process.env.CALLDROP_ADAPT_CAP_KBPS ?? 250);
const log = (line: string) => process.stderr.write(`[adaptation] ${line}\n`);
const tc = (...args: string[]) => execFileSync("tc", args, { stdio: ["ignore", "ignore", "pipe"] });

execFileSync("ip", ["link", "set", "lo", "up"]);
const server = await startServer();
const [alice, bob] = await Promise.all([launchPeer("alice"), launchPeer("bob")]);
const timeline: TimelinePoint[] = [];
const t0 = Date.now();
let phase: TimelinePoint["phase"] = "baseline";

async function sample(): Promise<PageCall> {
  const c = await callState(alice.page);
  timeline.push({
    t: Math.round((Date.now() - t0) / 100) / 10,
    phase,
    step: c.step ?? -1,
    width: c.sent?.width ?? 0,
    height: c.sent?.height ?? 0,
    fps: Math.round(c.sent?.fps ?? 0),
    bweKbps: Math.round((c.availableOutgoingBitrateBps ?? 0) / 1000),
    loss: Math.round((c.fractionLost ?? 0) * 1000) / 1000,
  });
  return c;
}

/** Samples every second until `done` or `maxS` seconds. */
async function observe(maxS: number, done: (c: PageCall) => boolean): Promise<void> {
  for (let i = 0; i < maxS; i++) {
    const c = await sample();
    if (done(c)) return;
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

try {
  const connected = await connectedCall(server.url, alice, bob);
  log(`connected on local port ${connected.localCandidatePort}`);

  // Baseline: long enough for the bandwidth estimate to ramp and the start-up probe window to pass.
  await observe(18, () => false);

  phase = "constrained";
  tc("qdisc", "add", "dev", "lo", "root", "handle", "1:", "htb", "default", "10");
  tc("class", "add", "dev", "lo", "parent", "1:", "classid", "1:10", "htb", "rate", "10gbit");
  tc(
    "class",
    "add",
    "dev",
    "lo",
    "parent",
    "1:",
    "classid",
    "1:20",
    "htb",
    "rate",
    `${CAP_KBPS}kbit`,
    "ceil",
    `${CAP_KBPS}kbit`,
  );
  // A short queue (≈0.6 s at the cap) so the constraint shows as loss and delay, as on a real uplink.
  tc("qdisc", "add", "dev", "lo", "parent", "1:20", "handle", "20:", "bfifo", "limit", "20000");
  const port = String(connected.localCandidatePort);
  tc(
    "filter",
    "add",
    "dev",
    "lo",
    "parent",
    "1:",
    "protocol",
    "ip",
    "prio",
    "1",
    "u32",
    "match",
    "ip",
    "protocol",
    "17",
    "0xff",
    "match",
    "ip",
    "sport",
    port,
    "0xffff",
    "flowid",
    "1:20",
  );
  log(`capped caller's media (udp sport ${port}) at ${CAP_KBPS} kbit/s`);
  let lowest = 0;
  await observe(40, (c) => {
    lowest = Math.max(lowest, c.step ?? 0);
    return lowest >= 3 && (c.sent?.height ?? 999) <= 270;
  });
  await observe(4, () => false);

  phase = "lifted";
  tc("filter", "del", "dev", "lo", "parent", "1:", "prio", "1");
  log("cap lifted");
  const worst = Math.max(...timeline.filter((p) => p.phase === "constrained").map((p) => p.step));
  await observe(80, (c) => (c.step ?? 9) <= Math.min(2, worst - 2) && (c.sent?.height ?? 0) >= 360);
  await alice.page.getByTestId("hangup").click();
  const result: ScenarioResult = { capKbps: CAP_KBPS, timeline };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
} catch (e) {
  log(`failed: ${String(e)}\n${server.output()}`);
  process.stdout.write(`RESULT ${JSON.stringify({ capKbps: CAP_KBPS, timeline, error: String(e) })}\n`);
} finally {
  await Promise.all([alice.close(), bob.close()]);
  await server.stop();
}
