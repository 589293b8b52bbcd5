/**
 * The JWKS key set while its source is down (docs/key-rotation.md): a local HTTP server
 * publishes the set and is then stopped, or hangs. The last good copy keeps verifying past its
 * max age, an outage is logged once at its start and once at its end, and only a token with an
 * unknown kid waits for a fetch: bounded by the timeout, at most once per cooldown.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { errors, exportJWK, generateKeyPair, jwtVerify, SignJWT } from "jose";
import { createJwksKeySet, JwksUnavailableError } from "./jwks-key-set.ts";

const k1 = await generateKeyPair("ES256");
const k2 = await generateKeyPair("ES256");
const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(k1.publicKey)), kid: "k1", alg: "ES256" }] });
const token = (key: CryptoKey, kid: string) =>
  new SignJWT({}).setProtectedHeader({ alg: "ES256", kid }).setSubject("alice").setExpirationTime("1h").sign(key);

/** The JWKS endpoint: answers with the set, or after `hang()` accepts and never answers; counts requests. */
async function jwksServer(port = 0) {
  let hits = 0;
  let hanging = false;
  const server = createServer((_req, res) => {
    hits++;
    if (!hanging) res.writeHead(200, { "content-type": "application/json" }).end(jwks);
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    hits: () => hits,
    hang: () => {
      hanging = true;
    },
  };
}
const stop = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

/** A logger that keeps what it is told. */
function recorder() {
  const lines: string[] = [];
  return {
    lines,
    logger: {
      warn: (_: object, m: string) => lines.push(`warn ${m}`),
      info: (_: object, m: string) => lines.push(`info ${m}`),
    },
  };
}

test("the last good copy keeps verifying while the JWKS endpoint is down; the outage is logged at its start and end", async () => {
  const up = await jwksServer();
  let clock = 1_000_000;
  const { lines, logger } = recorder();
  const getKey = await createJwksKeySet({
    url: `http://127.0.0.1:${up.port}/jwks.json`,
    maxAgeMs: 60_000,
    refetchCooldownMs: 10_000,
    logger,
    now: () => clock,
  });
  const good = await token(k1.privateKey, "k1");
  assert.equal((await jwtVerify(good, getKey)).payload.sub, "alice");
  await stop(up.server);

  clock += 60_000; // the copy is past its max age, the endpoint is down
  assert.equal((await jwtVerify(good, getKey)).payload.sub, "alice");
  clock += 10_000; // past the cooldown: tried again, failed again
  assert.equal((await jwtVerify(good, getKey)).payload.sub, "alice");
  assert.deepEqual(lines, ["warn JWKS could not be loaded; verifying with the last good copy until it can"]);

  const back = await jwksServer(up.port);
  try {
    clock += 10_000;
    assert.equal((await jwtVerify(good, getKey)).payload.sub, "alice");
    assert.equal(back.hits(), 1, "fetched again once the cooldown passed");
    assert.deepEqual(lines.slice(1), ["info JWKS loaded again; the outage is over"]);
  } finally {
    await stop(back.server);
  }
});

test("a hanging JWKS endpoint delays a verification by the fetch timeout at most, once per cooldown", async () => {
  const endpoint = await jwksServer();
  let clock = 1_000_000;
  const getKey = await createJwksKeySet({
    url: `http://127.0.0.1:${endpoint.port}/jwks.json`,
    maxAgeMs: 60_000,
    refetchCooldownMs: 10_000,
    fetchTimeoutMs: 200,
    now: () => clock,
  });
  const good = await token(k1.privateKey, "k1");
  try {
    await jwtVerify(good, getKey);
    endpoint.hang();
    clock += 60_000;
    const started = performance.now();
    assert.equal((await jwtVerify(good, getKey)).payload.sub, "alice", "the last good copy");
    assert.ok(performance.now() - started < 3_000, "bounded by the fetch timeout, not jose's 5 s");
    assert.equal(endpoint.hits(), 2);
    assert.equal((await jwtVerify(good, getKey)).payload.sub, "alice");
    assert.equal(endpoint.hits(), 2, "within the cooldown the stale copy is used without a fetch");
  } finally {
    await stop(endpoint.server);
  }
});

test("a token with an unknown kid fetches at most once per cooldown; with the endpoint down it is unavailable", async () => {
  const up = await jwksServer();
  let clock = 1_000_000;
  const getKey = await createJwksKeySet({
    url: `http://127.0.0.1:${up.port}/jwks.json`,
    refetchCooldownMs: 10_000,
    now: () => clock,
  });
  const stranger = await token(k2.privateKey, "k2");
  assert.equal((await jwtVerify(await token(k1.privateKey, "k1"), getKey)).payload.sub, "alice");
  clock += 10_000;
  await assert.rejects(jwtVerify(stranger, getKey), errors.JWKSNoMatchingKey);
  assert.equal(up.hits(), 2, "the unknown kid fetched the set again");
  await assert.rejects(jwtVerify(stranger, getKey), errors.JWKSNoMatchingKey);
  assert.equal(up.hits(), 2, "not again within the cooldown");
  await stop(up.server);
  clock += 10_000;
  await assert.rejects(jwtVerify(stranger, getKey), JwksUnavailableError);
  assert.equal(
    (await jwtVerify(await token(k1.privateKey, "k1"), getKey)).payload.sub,
    "alice",
    "known kids still verify",
  );
});
