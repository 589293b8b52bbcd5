/**
 * Sign-in in production mode against a real server process (docs/key-rotation.md): no dev
 * tokens, no HMAC secret; tokens signed by the test's own keys and verified through a JWKS
 * served by a small local HTTP server, or a configured SPKI public key. The JWKS rotates
 * (a new kid added, the old one removed later) while a call is up, and the call goes on;
 * bad tokens are refused with unauthenticated and a message saying why.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT, UnsecuredJWT } from "jose";
import { eventually } from "../src/adapters/presence/presence.contract.ts";
import { CommandFailed, type Device, historyClient, mobileDevice } from "./support/devices.ts";
import { type ServerProcess, startServer } from "./support/server-process.ts";

const ISSUER = "https://messaging.test";
const AUDIENCE = "calldrop-calling";
const Outcome = { COMPLETED: 1 };

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

/** Production mode: the test HMAC secret unset, so only the configured keys verify. */
const production = (auth: Record<string, string>) => ({
  CALLDROP_MODE: "production",
  CALLDROP_AUTH__HMAC_SECRET: undefined,
  CALLDROP_AUTH__ISSUER: ISSUER,
  CALLDROP_AUTH__AUDIENCE: AUDIENCE,
  ...auth,
});

function sign(
  key: KeyPair,
  header: { alg: string; kid?: string },
  sub: string,
  claims: { iss?: string; aud?: string; expInS?: number } = {},
): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader(header)
    .setSubject(sub)
    .setIssuer(claims.iss ?? ISSUER)
    .setAudience(claims.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (claims.expInS ?? 600))
    .sign(key.privateKey);
}

/** The issuer's JWKS endpoint: serves whatever `keys` holds now. */
async function startJwksServer(): Promise<{ url: string; keys: JWK[]; close(): Promise<void> }> {
  const state = { keys: [] as JWK[] };
  const server: Server = createServer((req, res) => {
    if (req.url !== "/.well-known/jwks.json") return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/jwk-set+json" }).end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`,
    get keys() {
      return state.keys;
    },
    set keys(keys: JWK[]) {
      state.keys = keys;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Opening a device with `token` is refused with unauthenticated and a message matching `message`. */
async function refusedSignIn(server: ServerProcess, token: string, message: RegExp): Promise<void> {
  await assert.rejects(
    mobileDevice({ baseUrl: server.baseUrl, token, userId: "mallory", deviceId: "d1" }),
    (err: unknown) => {
      assert.ok(err instanceof CommandFailed, String(err));
      assert.equal(err.code, "unauthenticated");
      assert.match(err.message, message);
      return true;
    },
  );
  await assert.rejects(historyClient(server.baseUrl, token).list(), (err: Error) => {
    assert.match(err.message, /\[unauthenticated\]/);
    assert.match(err.message, message);
    return true;
  });
}

const candidate = (tag: string) => ({ candidate: `candidate:${tag} 1 udp 1 127.0.0.1 9 typ host`, sdpMid: "0" });
const tagOf = (e: { value: { candidate: string } }) => e.value.candidate.split(" ")[0]?.slice("candidate:".length);

/** Both sides of `callId` still reach each other: one ICE candidate each way. */
async function stillSignaling(a: Device, b: Device, callId: string, tag: string): Promise<void> {
  await a.command("iceCandidate", { callId, ...candidate(`${tag}-a`) });
  assert.equal(tagOf(await b.next("iceCandidate")), `${tag}-a`);
  await b.command("iceCandidate", { callId, ...candidate(`${tag}-b`) });
  assert.equal(tagOf(await a.next("iceCandidate")), `${tag}-b`);
}

describe("production auth with a JWKS URL", () => {
  let jwks: Awaited<ReturnType<typeof startJwksServer>>;
  let server: ServerProcess;
  let k1: KeyPair;
  let k2: KeyPair;
  const jwk = async (key: KeyPair, kid: string): Promise<JWK> => ({
    ...(await exportJWK(key.publicKey)),
    kid,
    alg: "ES256",
    use: "sig",
  });

  before(async () => {
    [k1, k2] = await Promise.all([generateKeyPair("ES256"), generateKeyPair("ES256")]);
    jwks = await startJwksServer();
    jwks.keys = [await jwk(k1, "k1")];
    server = await startServer(
      production({
        CALLDROP_AUTH__JWKS_URL: jwks.url,
        // A new kid is looked up at once; a fetched set is trusted for 1 s, so a removed kid stops verifying soon.
        CALLDROP_AUTH__JWKS_REFETCH_COOLDOWN_MS: "0",
        CALLDROP_AUTH__JWKS_MAX_AGE_MS: "1000",
      }),
    );
  });

  after(async () => {
    await server?.stop();
    await jwks?.close();
  });

  test("no dev tokens in production mode", async () => {
    assert.equal((await fetch(`${server.baseUrl}/dev/token?user=alice`)).status, 404);
  });

  test("the JWKS rotates while a call is up: a new kid signs in, the old one is retired, the call goes on", async () => {
    const alice = await mobileDevice({
      baseUrl: server.baseUrl,
      token: await sign(k1, { alg: "ES256", kid: "k1" }, "alice"),
      userId: "alice",
      deviceId: "phone",
    });
    const bob = await mobileDevice({
      baseUrl: server.baseUrl,
      token: await sign(k1, { alg: "ES256", kid: "k1" }, "bob"),
      userId: "bob",
      deviceId: "phone",
    });
    try {
      const { callId } = await alice.command("startCall", { calleeUserId: "bob", video: true });
      await bob.next("incomingCall", (v) => v.callId === callId);
      await bob.command("accept", { callId });
      await alice.next("callAccepted", (v) => v.callId === callId);
      await stillSignaling(alice, bob, callId, "before");

      // The issuer publishes k2 beside k1, then signs new tokens with k2: they verify at once.
      jwks.keys = [await jwk(k1, "k1"), await jwk(k2, "k2")];
      const bobsNewToken = await sign(k2, { alg: "ES256", kid: "k2" }, "bob");
      const bobsCalls = (await historyClient(server.baseUrl, bobsNewToken).list()).calls;
      assert.deepEqual(
        bobsCalls.map((c) => c.callId),
        [callId],
      );
      await stillSignaling(alice, bob, callId, "overlap");

      // k1 is retired: once the server's copy of the set is refreshed, k1 tokens are refused...
      jwks.keys = [await jwk(k2, "k2")];
      const lateK1 = await sign(k1, { alg: "ES256", kid: "k1" }, "alice");
      await eventually(() => refusedSignIn(server, lateK1, /unknown key \(kid "k1"\)/), 15_000);
      // ...while the streams signed in with k1 carry on until their tokens expire, and the call with them.
      await stillSignaling(alice, bob, callId, "after");
      await bob.command("hangup", { callId });
      assert.equal((await alice.next("callEnded")).value.outcome, Outcome.COMPLETED);
      const history = historyClient(server.baseUrl, await sign(k2, { alg: "ES256", kid: "k2" }, "alice"));
      await eventually(async () => assert.equal((await history.get(callId)).outcome, Outcome.COMPLETED));
      assert.equal(alice.streamError(), undefined);
      assert.equal(bob.streamError(), undefined);
    } finally {
      alice.drop();
      bob.drop();
    }
  });

  test("bad tokens are refused with unauthenticated and a reason", async (t) => {
    jwks.keys = [await jwk(k2, "k2")];
    const stranger = await generateKeyPair("ES256");
    const none = new UnsecuredJWT({})
      .setSubject("mallory")
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime("10m")
      .encode();
    const cases: [string, string, RegExp][] = [
      ["unknown kid", await sign(stranger, { alg: "ES256", kid: "k9" }, "mallory"), /unknown key \(kid "k9"\)/],
      [
        "known kid, wrong key",
        await sign(stranger, { alg: "ES256", kid: "k2" }, "mallory"),
        /signature does not verify/,
      ],
      ["expired", await sign(k2, { alg: "ES256", kid: "k2" }, "mallory", { expInS: -60 }), /token expired/],
      ["wrong issuer", await sign(k2, { alg: "ES256", kid: "k2" }, "mallory", { iss: "https://evil" }), /issuer/],
      ["wrong audience", await sign(k2, { alg: "ES256", kid: "k2" }, "mallory", { aud: "other-app" }), /audience/],
      ["alg none", none, /algorithm not accepted/],
      ["not a JWT", "garbage", /malformed token/],
    ];
    for (const [what, token, message] of cases) {
      await t.test(what, () => refusedSignIn(server, token, message));
    }
  });
});

describe("production auth with a public key", () => {
  let server: ServerProcess;
  let key: KeyPair;

  before(async () => {
    key = await generateKeyPair("RS256");
    server = await startServer(production({ CALLDROP_AUTH__PUBLIC_KEY_PEM: await exportSPKI(key.publicKey) }));
  });

  after(async () => {
    await server?.stop();
  });

  test("tokens signed by the matching private key sign in; others are refused", async () => {
    const device = await mobileDevice({
      baseUrl: server.baseUrl,
      token: await sign(key, { alg: "RS256" }, "carol"),
      userId: "carol",
      deviceId: "laptop",
    });
    assert.ok(device.session.id);
    device.drop();
    const other = await generateKeyPair("RS256");
    await refusedSignIn(server, await sign(other, { alg: "RS256" }, "carol"), /signature does not verify/);
    await refusedSignIn(server, await sign(key, { alg: "RS256" }, "carol", { expInS: -5 }), /token expired/);
  });
});
