/**
 * Calls through the real coturn on 127.0.0.1 (started by scripts/services/coturn.ts):
 * the relay-only privacy setting makes both sides use a relayed pair and the
 * history says relay; coturn refuses an expired TURN REST credential while a fresh
 * one minted by GetIceServers works.
 */

import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { SignalService } from "../../gen/calldrop/v1/signal_pb.js";
import { nodeDigests } from "../../src/adapters/crypto/node-digests.ts";
import { turnCredential, turnUsername } from "../../src/app/ice-servers.ts";
import { call, resetCall, signIn, waitForCall, waitForHistory, waitForText } from "../support/app-driver.ts";
import { launchPeer, type Peer } from "../support/browser.ts";
import { startServer, type TestServer } from "../support/server.ts";
import { signedInPair } from "../support/signed-in-pair.ts";
import { relayProbe } from "../support/turn-probe.ts";

const ARTIFACTS = join(import.meta.dirname, "../../test-artifacts");

function turnEnv(): { url: string; secret: string } {
  const url = process.env.CALLDROP_TEST_TURN_URL;
  const secret = process.env.CALLDROP_TEST_TURN_SECRET;
  if (!url || !secret) {
    throw new Error(
      "CALLDROP_TEST_TURN_URL/CALLDROP_TEST_TURN_SECRET not set: run through `npm test` (coturn service)",
    );
  }
  return { url, secret };
}

describe("web client: relayed calls through coturn", () => {
  let server: TestServer;
  let alice: Peer;
  let bob: Peer;
  let turn: { url: string; secret: string };

  before(async () => {
    turn = turnEnv();
    ({ server, alice, bob } = await signedInPair((name) => launchPeer(name), {
      CALLDROP_ICE__TURN_URLS: JSON.stringify([`${turn.url}?transport=udp`]),
      CALLDROP_ICE__TURN_SECRET: JSON.stringify(turn.secret),
      CALLDROP_ICE__CREDENTIAL_TTL_S: "600",
    }));
  });

  // A failed test must not leave a call up for the next one.
  afterEach(async () => {
    for (const p of [alice, bob]) if (p) await resetCall(p.page).catch(() => {});
  });

  after(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await server?.stop();
  });

  it("relay-only mode sends media through TURN on both sides and the history says relay", async () => {
    for (const p of [alice, bob]) {
      await p.page.getByTestId("relay-only").check();
      // The setting is stored locally and survives a reload.
      await p.page.reload();
      await p.page.waitForFunction(() => document.querySelector("[data-testid=connection]")?.textContent === "online");
      assert.equal(await p.page.getByTestId("relay-only").isChecked(), true);
    }
    await call(alice.page, "bob");
    await bob.page.getByTestId("accept").click();
    const relayed = (c: { phase: string; remoteFrames: number; localCandidateType?: string }) =>
      c.phase === "connected" && c.remoteFrames > 0 && c.localCandidateType === "relay";
    const a = await waitForCall(alice.page, "alice relayed with video", relayed);
    const b = await waitForCall(bob.page, "bob relayed with video", relayed);
    assert.equal(a.path, "relay");
    assert.equal(b.path, "relay");
    assert.equal(a.remoteCandidateType, "relay", "the peer's candidate is a relay too: no IP leaks");
    await alice.page.waitForTimeout(2_500);
    mkdirSync(ARTIFACTS, { recursive: true });
    await alice.page.screenshot({ path: join(ARTIFACTS, "relay-caller-mid-call.png") });
    await bob.page.screenshot({ path: join(ARTIFACTS, "relay-callee-mid-call.png") });
    await bob.page.getByTestId("hangup").click();
    await waitForText(alice.page, /Call with bob ended/);
    for (const p of [alice, bob]) {
      const row = await waitForHistory(p.page, a.callId, (r) => r.outcome === "completed" && r.samples > 0);
      assert.equal(row.path, "relay", `${p.name}'s history path`);
      assert.match(row.text, /relay/);
    }
  });

  it("coturn refuses an expired TURN credential (401, no relay) while a fresh one from GetIceServers works", async () => {
    const expiredUser = turnUsername(Date.now() / 1000 - 60, "alice");
    const expired = [
      { urls: [turn.url], username: expiredUser, credential: turnCredential(turn.secret, expiredUser, nodeDigests) },
    ];
    const refused = await relayProbe(alice.page, expired, 5_000);
    assert.equal(refused.connected, false, "no relayed connection with an expired credential");
    assert.equal(refused.relayCandidates, 0);
    assert.ok(refused.errorCodes.includes(401), `icecandidateerror 401, got ${refused.errorCodes}`);

    const token = ((await (await fetch(`${server.url}/dev/token?user=alice`)).json()) as { token: string }).token;
    const client = createClient(
      SignalService,
      createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", interceptors: [bearer(token)] }),
    );
    const fresh = await client.getIceServers({}); // no call: a credential scoped to the user
    assert.equal(fresh.ttlSeconds, 600);
    const servers = fresh.iceServers.map((s) => ({ urls: s.urls, username: s.username, credential: s.credential }));
    assert.match(servers[0]?.username ?? "", /^\d+:alice$/);
    const works = await relayProbe(alice.page, servers, 10_000);
    assert.equal(works.connected, true, `fresh credential connects via relay: ${JSON.stringify(works)}`);
    assert.ok(works.relayCandidates > 0);
    assert.equal(works.selectedLocalType, "relay");
  });
});

describe("web client: a call whose media cannot connect", () => {
  it("ends as 'connection failed' on both sides when coturn refuses the credential in relay-only mode", async () => {
    const turn = turnEnv();
    // This server signs TURN credentials with the wrong secret, and gives up on media after 4 s.
    const server = await startServer({
      CALLDROP_ICE__TURN_URLS: JSON.stringify([`${turn.url}?transport=udp`]),
      CALLDROP_ICE__TURN_SECRET: JSON.stringify(`not-${turn.secret}`),
      CALLDROP_CALLS__SETUP_TIMEOUT_MS: "4000",
    });
    const [erin, frank] = await Promise.all([launchPeer("erin"), launchPeer("frank")]);
    try {
      await signIn(erin.page, server.url, "erin");
      await signIn(frank.page, server.url, "frank");
      for (const p of [erin, frank]) await p.page.getByTestId("relay-only").check();
      await call(erin.page, "frank");
      await frank.page.getByTestId("accept").click();
      await waitForText(erin.page, /Connection failed: could not connect media with frank/, 15_000);
      await waitForText(frank.page, /Connection failed: could not connect media with erin/, 5_000);
      const state = await waitForCall(frank.page, "idle", (c) => c.phase === "idle");
      assert.equal(state.phase, "idle");
    } finally {
      await Promise.all([erin.close(), frank.close()]);
      await server.stop();
    }
  });
});

function bearer(token: string) {
  return (next: Parameters<import("@connectrpc/connect").Interceptor>[0]) =>
    (req: Parameters<ReturnType<import("@connectrpc/connect").Interceptor>>[0]) => {
      req.header.set("Authorization", `Bearer ${token}`);
      return next(req);
    };
}
