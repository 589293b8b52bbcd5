/**
 * A call between two browsers whose networks let no UDP out (docs/spec.md §5): each Chromium
 * runs in its own network namespace with only `lo`, whose one way out is TCP to the signaling
 * server's port and to coturn's TURN-over-TLS port (test/support/netns-peer.ts). GetIceServers
 * hands out TURN over UDP, TCP and TLS, in that order; only `turns:` gets through, so both
 * sides relay over TLS, the call connects with video, and the history says relay/tls.
 * coturn's certificate is self-signed: each Chromium trusts exactly its key (SPKI pin).
 */
import assert from "node:assert/strict";
import { createHash, X509Certificate } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type RunningCoturn, startCoturn } from "../../scripts/services/coturn.ts";
import { nodeDigests } from "../../src/adapters/crypto/node-digests.ts";
import { turnCredential, turnUsername } from "../../src/app/ice-servers.ts";
import { call, signIn, waitForCall, waitForHistory, waitForText } from "../support/app-driver.ts";
import type { Peer } from "../support/browser.ts";
import { launchIsolatedPeer } from "../support/netns-peer.ts";
import { startServer, type TestServer } from "../support/server.ts";
import { relayProbe } from "../support/turn-probe.ts";

const ARTIFACTS = join(import.meta.dirname, "../../test-artifacts");

/** Chromium's flag trusting exactly the key of `pem` (base64 SHA-256 of its SubjectPublicKeyInfo). */
function trustKeyOf(pem: string): string {
  const spki = new X509Certificate(pem).publicKey.export({ type: "spki", format: "der" });
  return `--ignore-certificate-errors-spki-list=${createHash("sha256").update(spki).digest("base64")}`;
}

describe("web client: a call where UDP is blocked connects through TURN over TLS", () => {
  let turn: RunningCoturn;
  let server: TestServer;
  let alice: Peer;
  let bob: Peer;

  before(async () => {
    turn = await startCoturn(() => {});
    server = await startServer({
      CALLDROP_ICE__TURN_URLS: JSON.stringify(turn.urls),
      CALLDROP_ICE__TURN_SECRET: JSON.stringify(turn.secret),
    });
    const exits = [server.port, turn.tlsPort];
    const trust = [trustKeyOf(turn.certificate)];
    [alice, bob] = await Promise.all([
      launchIsolatedPeer("alice", exits, trust),
      launchIsolatedPeer("bob", exits, trust),
    ]);
    await signIn(alice.page, server.url, "alice");
    await signIn(bob.page, server.url, "bob");
  });

  after(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await server?.stop();
    await turn?.stop();
  });

  it("gets no relay over TURN UDP or TCP from inside a namespace: UDP (and any other port) is blocked", async () => {
    const username = turnUsername(Date.now() / 1000 + 600, "alice");
    const credential = turnCredential(turn.secret, username, nodeDigests);
    const [udp, tcp, tls] = turn.urls as [string, string, string];
    const blocked = await relayProbe(alice.page, [{ urls: [udp, tcp], username, credential }], 5_000);
    assert.equal(blocked.relayCandidates, 0, `no relay without TLS: ${JSON.stringify(blocked)}`);
    assert.equal(blocked.connected, false);
    const open = await relayProbe(alice.page, [{ urls: [tls], username, credential }], 10_000);
    assert.equal(open.connected, true, `the same credential relays over TLS: ${JSON.stringify(open)}`);
    assert.equal(open.selectedLocalType, "relay");
  });

  it("relays both sides over TLS, with video, and the history says relay/tls", async () => {
    assert.deepEqual(
      turn.urls.map((u) => u.split(":")[0] + (u.includes("transport=tcp") ? "/tcp" : "/udp")),
      ["turn/udp", "turn/tcp", "turns/tcp"],
      "coturn serves all three; the namespaces let only TLS through",
    );
    await call(alice.page, "bob");
    await bob.page.getByTestId("accept").click();
    const overTls = (c: { phase: string; remoteFrames: number; localCandidateType?: string; relayProtocol?: string }) =>
      c.phase === "connected" && c.remoteFrames > 0 && c.localCandidateType === "relay" && c.relayProtocol === "tls";
    const a = await waitForCall(alice.page, "alice relayed over TLS with video", overTls, 30_000);
    const b = await waitForCall(bob.page, "bob relayed over TLS with video", overTls, 30_000);
    assert.equal(a.path, "relay");
    assert.equal(b.path, "relay");
    for (const c of [a, b]) {
      // The client tried the URLs as given: TURN over TCP was refused (nothing listens on that port in the namespace).
      assert.ok(
        c.candidateErrors.some((e) => e.url === turn.urls[1]),
        `TURN over TCP failed first: ${JSON.stringify(c.candidateErrors)}`,
      );
    }
    // Each side has sent the reading it shows as a quality sample, on the stream its hang-up follows.
    await bob.page.getByTestId("hangup").click();
    await waitForText(alice.page, /Call with bob ended/);
    for (const p of [alice, bob]) {
      const row = await waitForHistory(p.page, a.callId, (r) => r.outcome === "completed" && r.samples > 0);
      assert.equal(row.path, "relay", `${p.name}'s history path`);
      assert.equal(row.pathWords, "relay/tls", `${p.name}'s history says how the relay was reached`);
      assert.match(row.text, /relay\/tls/);
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    await alice.page.getByTestId("history").screenshot({ path: join(ARTIFACTS, "desktop-history-relay-tls.png") });
  });
});
