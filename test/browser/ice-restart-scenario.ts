/**
 * The ICE-restart scenario, run by ice-restart.test.ts inside a private network namespace
 * (`unshare -n`, only `lo`): a P2P call on 127.0.0.1, then every packet to or from the
 * caller's selected UDP port is dropped for good (as when a phone's address changes), so
 * the old candidate pair can never recover and only new candidates can bring the media
 * back. Prints one line `RESULT <json>` with what both pages showed. Not a test file: it
 * asserts nothing itself.
 */
import { execFileSync } from "node:child_process";
import { callState, connectedCall, waitForCall, waitForHistory } from "../support/app-driver.ts";
import { launchPeer } from "../support/browser.ts";
import { startServer } from "../support/server.ts";

/** What the scenario prints. */
export interface IceRestartResult {
  readonly blockedPort: number;
  readonly newPort?: number;
  readonly iceRestarts?: number;
  /** From the block to the caller showing "Reconnecting…", and to media flowing both ways again. */
  readonly lostAfterMs?: number;
  readonly recoveredAfterMs?: number;
  readonly outcome?: string;
  readonly error?: string;
}

const log = (line: string) => process.stderr.write(`[ice-restart] ${line}\n`);
const tc = (...args: string[]) => execFileSync("tc", args, { stdio: ["ignore", "ignore", "pipe"] });

/** Sends every IPv4 UDP packet from or to `port` on lo into a class whose queue takes nothing. */
function blackhole(port: number): void {
  tc("qdisc", "add", "dev", "lo", "root", "handle", "1:", "htb", "default", "10");
  tc("class", "add", "dev", "lo", "parent", "1:", "classid", "1:10", "htb", "rate", "10gbit");
  tc("class", "add", "dev", "lo", "parent", "1:", "classid", "1:20", "htb", "rate", "8kbit");
  tc("qdisc", "add", "dev", "lo", "parent", "1:20", "handle", "20:", "bfifo", "limit", "1");
  for (const [prio, dir] of [
    ["1", "sport"],
    ["2", "dport"],
  ] as const) {
    tc(
      ...["filter", "add", "dev", "lo", "parent", "1:", "protocol", "ip", "prio", prio, "u32"],
      ...["match", "ip", "protocol", "17", "0xff", "match", "ip", dir, String(port), "0xffff", "flowid", "1:20"],
    );
  }
}

execFileSync("ip", ["link", "set", "lo", "up"]);
const server = await startServer();
const [alice, bob] = await Promise.all([launchPeer("alice"), launchPeer("bob")]);
let result: IceRestartResult = { blockedPort: 0 };
try {
  const connected = await connectedCall(server.url, alice, bob);
  const { callId } = connected;
  const blockedPort = connected.localCandidatePort ?? 0;
  result = { blockedPort };
  blackhole(blockedPort);
  const t0 = Date.now();
  log(`dropping every packet of udp port ${blockedPort}`);
  await waitForCall(alice.page, "the caller notices", (c) => /Reconnecting/.test(c.status), 20_000);
  const lostAfterMs = Date.now() - t0;
  const back = await waitForCall(
    alice.page,
    "the caller back on new candidates",
    (c) =>
      c.status === "Connected" && c.iceRestarts > 0 && !!c.localCandidatePort && c.localCandidatePort !== blockedPort,
    30_000,
  );
  // Media flows both ways again (the caller's sender is read too: a failure names its rung).
  for (const [page, other] of [
    [alice.page, bob.page],
    [bob.page, alice.page],
  ] as const) {
    const frames = (await callState(page)).remoteFrames;
    const sender = await callState(other);
    const what = `video flowing again (sender at step ${sender.step}, ${JSON.stringify(sender.sent)})`;
    await waitForCall(page, what, (c) => c.remoteFrames > frames + 20, 25_000);
  }
  const recoveredAfterMs = Date.now() - t0;
  log(`back on port ${back.localCandidatePort} after ${back.iceRestarts} restart(s), ${recoveredAfterMs} ms`);
  await alice.page.getByTestId("hangup").click();
  const row = await waitForHistory(bob.page, callId, (r) => r.outcome !== "");
  result = {
    blockedPort,
    newPort: back.localCandidatePort,
    iceRestarts: back.iceRestarts,
    lostAfterMs,
    recoveredAfterMs,
    outcome: row.outcome,
  };
} catch (e) {
  log(`failed: ${String(e)}\n${server.output()}`);
  result = { ...result, error: String(e) };
} finally {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  await Promise.all([alice.close(), bob.close()]);
  await server.stop();
}
