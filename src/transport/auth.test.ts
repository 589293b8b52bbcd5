import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { isDomainError } from "../domain/errors.ts";
import { createAuthenticator } from "./auth.ts";

const claims = { issuer: "https://messaging.example", audience: "calldrop-calling" };

async function signed(privateKey: CryptoKey, sub: string, exp: number, kid = "k1") {
  return new SignJWT({})
    .setProtectedHeader({ alg: "ES256", kid })
    .setSubject(sub)
    .setIssuer(claims.issuer)
    .setAudience(claims.audience)
    .setExpirationTime(exp)
    .sign(privateKey);
}

test("verifies ES256 tokens against a JWKS file; wrong key, expiry, audience and subject are refused", async () => {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const other = await generateKeyPair("ES256");
  const dir = mkdtempSync(join(tmpdir(), "jwks-"));
  const jwksFile = join(dir, "jwks.json");
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" }] }));
  const auth = await createAuthenticator({ ...claims, jwksFile }, false);
  const now = Math.floor(Date.now() / 1000);

  const identity = await auth.verify(await signed(privateKey, "alice", now + 60));
  assert.equal(identity.userId, "alice");
  assert.equal(identity.expiresAtMs, (now + 60) * 1000);
  assert.equal(auth.issueDevToken, undefined, "no dev tokens outside local mode");

  const refused = async (token: string, message: RegExp) =>
    assert.rejects(auth.verify(token), (e) => isDomainError(e, "unauthenticated") && message.test(e.message));
  await refused(await signed(privateKey, "alice", now - 10), /expired/);
  await refused(await signed(other.privateKey, "alice", now + 60), /invalid token/);
  await refused(await signed(privateKey, "not a valid id!", now + 60), /token subject/);
  const wrongAudience = await new SignJWT({})
    .setProtectedHeader({ alg: "ES256", kid: "k1" })
    .setSubject("alice")
    .setIssuer(claims.issuer)
    .setAudience("someone-else")
    .setExpirationTime(now + 60)
    .sign(privateKey);
  await refused(wrongAudience, /invalid token/);
});
