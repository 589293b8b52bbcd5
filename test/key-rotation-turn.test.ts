/**
 * The TURN REST secret rotates without a dropped relay (docs/key-rotation.md): on a private
 * coturn (its secrets in the userdb, changed by coturn/sync-secrets.sh while it runs), a
 * relayed connection made with a credential minted with the old secret stays up while
 * coturn accepts both secrets and the signaling server mints with the new one; both
 * credentials allocate during the overlap; once the old secret is removed only new
 * credentials allocate.
 */

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type RunningCoturn, startCoturn } from "../scripts/services/coturn.ts";
import { nodeDigests } from "../src/adapters/crypto/node-digests.ts";
import { buildIceServers, type IceConfig } from "../src/app/ice-servers.ts";
import { launchPeer, type Peer } from "./support/browser.ts";
import { holdRelay, relayProbe } from "./support/turn-probe.ts";

const OLD = "old-turn-secret-0123456789abcdef";
const NEW = "new-turn-secret-fedcba9876543210";

let coturn: RunningCoturn;
let peer: Peer;

before(async () => {
  coturn = await startCoturn(() => {}, { secret: OLD });
  peer = await launchPeer("turn-rotation");
});

after(async () => {
  await peer?.close();
  await coturn?.stop();
});

/** The ICE servers GetIceServers answers by a server configured with `turnSecret`. */
function minted(turnSecret: string, callId: string) {
  const config: IceConfig = { stunUrls: [], turnUrls: [coturn.urls[0] as string], turnSecret, credentialTtlS: 600 };
  return buildIceServers(config, { userId: "alice", callId }, Date.now(), nodeDigests).iceServers.map((s) => ({
    urls: [...s.urls],
    username: s.username,
    credential: s.credential,
  }));
}

async function allocates(iceServers: ReturnType<typeof minted>, what: string): Promise<void> {
  const probe = await relayProbe(peer.page, iceServers, 15_000);
  assert.equal(probe.connected, true, `${what} connects through the relay: ${JSON.stringify(probe)}`);
  assert.equal(probe.selectedLocalType, "relay");
}

async function refused(iceServers: ReturnType<typeof minted>, what: string): Promise<void> {
  const probe = await relayProbe(peer.page, iceServers, 5_000);
  assert.equal(probe.connected, false, `${what} is refused`);
  assert.ok(probe.errorCodes.includes(401), `${what}: coturn answers 401, got ${probe.errorCodes}`);
}

test("the TURN secret rotates while a relayed call is up: old and new credentials both allocate during the overlap", async () => {
  // Before: servers mint with OLD; a call is relayed with such a credential.
  const call = await holdRelay(peer.page, minted(OLD, "call-before"), 15_000);
  try {
    assert.equal(await call.echo("before", 5_000), "echo:before");
    await refused(minted(NEW, "too-early"), "a credential minted with a secret coturn does not know yet");

    // 1. coturn accepts both (no restart). 2. The servers mint with NEW.
    coturn.setSecrets([NEW, OLD]);
    await allocates(minted(NEW, "new"), "a credential minted with the new secret");
    await allocates(minted(OLD, "old-still-valid"), "a credential minted with the old secret, not yet expired");
    assert.equal(await call.echo("overlap", 5_000), "echo:overlap");

    // 3. Once every credential minted with OLD has expired (credentialTtlS), coturn drops OLD.
    coturn.setSecrets([NEW]);
    await refused(minted(OLD, "old"), "a credential minted with the retired secret");
    await allocates(minted(NEW, "new-after"), "a credential minted with the new secret");
    // coturn does not tear down an allocation when a secret goes: the call made before is still relayed.
    assert.equal(await call.state(), "connected");
    assert.equal(await call.echo("after", 5_000), "echo:after");
  } finally {
    await call.close();
  }
});
