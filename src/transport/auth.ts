/**
 * Authentication (PRODUCT.md §9): short-lived JWTs from the messaging app, verified
 * with jose against the configured key (HS256 secret, SPKI public key, JWKS URL or file).
 * The user id is the `sub` claim; `exp` is required.
 */

import { readFileSync } from "node:fs";
import { createContextKey, type Interceptor } from "@connectrpc/connect";
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  importSPKI,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
  SignJWT,
} from "jose";
import { DomainError } from "../domain/errors.ts";
import { checkUserId } from "../domain/limits.ts";

/** Who is calling. */
export interface Identity {
  readonly userId: string;
  /** When the token expires (unix ms); streams end then. */
  readonly expiresAtMs: number;
}

/** The context key under which the auth interceptor stores the caller's identity. */
export const identityKey = createContextKey<Identity | undefined>(undefined, { description: "caller identity" });

/** Key material and claims to check. */
export interface AuthOptions {
  readonly hmacSecret?: string;
  readonly publicKeyPem?: string;
  readonly jwksUrl?: string;
  readonly jwksFile?: string;
  readonly issuer: string;
  readonly audience: string;
}

/** Verifies bearer tokens; optionally issues dev tokens (local mode only). */
export interface Authenticator {
  verify(token: string): Promise<Identity>;
  /** Present only when dev tokens are enabled. */
  readonly issueDevToken?: (userId: string, ttlS: number) => Promise<string>;
}

/** Creates the authenticator; `devIssuer` enables dev tokens (requires an HMAC secret). */
export async function createAuthenticator(options: AuthOptions, devIssuer: boolean): Promise<Authenticator> {
  const secret = options.hmacSecret ? new TextEncoder().encode(options.hmacSecret) : undefined;
  const key: Uint8Array | CryptoKey | undefined = options.publicKeyPem
    ? await importSPKI(options.publicKeyPem, "RS256").catch(() => importSPKI(options.publicKeyPem as string, "ES256"))
    : secret;
  const getKey: JWTVerifyGetKey | undefined = options.jwksUrl
    ? createRemoteJWKSet(new URL(options.jwksUrl))
    : options.jwksFile
      ? createLocalJWKSet(JSON.parse(readFileSync(options.jwksFile, "utf8")) as JSONWebKeySet)
      : key && (async () => key);
  if (!getKey) throw new Error("auth: no verification key configured");
  const claims = { issuer: options.issuer, audience: options.audience, requiredClaims: ["exp", "sub"] };
  return {
    async verify(token) {
      let payload: JWTPayload;
      try {
        payload = (await jwtVerify(token, getKey, claims)).payload;
      } catch (err) {
        const expired = (err as { code?: string }).code === "ERR_JWT_EXPIRED";
        throw new DomainError("unauthenticated", expired ? "token expired" : "invalid token", { cause: err });
      }
      const userId = payload.sub ?? "";
      try {
        checkUserId(userId, "token subject");
      } catch (err) {
        throw new DomainError("unauthenticated", "invalid token subject", { cause: err });
      }
      return { userId, expiresAtMs: (payload.exp ?? 0) * 1000 };
    },
    ...(devIssuer && secret
      ? {
          issueDevToken: (userId: string, ttlS: number) => {
            checkUserId(userId);
            return new SignJWT({})
              .setProtectedHeader({ alg: "HS256" })
              .setSubject(userId)
              .setIssuer(options.issuer)
              .setAudience(options.audience)
              .setIssuedAt()
              .setExpirationTime(`${ttlS}s`)
              .sign(secret);
          },
        }
      : {}),
  };
}

/** A Connect interceptor that requires `Authorization: Bearer <jwt>` and stores the identity. */
export function createAuthInterceptor(auth: Authenticator): Interceptor {
  return (next) => async (req) => {
    const header = req.header.get("authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) throw new DomainError("unauthenticated", "missing bearer token");
    req.contextValues.set(identityKey, await auth.verify(match[1]));
    return next(req);
  };
}
