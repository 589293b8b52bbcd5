/**
 * Authentication (docs/spec.md §9): short-lived JWTs from the messaging app, verified
 * with jose against the configured key (HS256 secret, SPKI public key, JWKS URL or file;
 * a JWKS holds several `kid`s and is refetched, so keys rotate: docs/key-rotation.md).
 * The user id is the `sub` claim; `exp` is required. A token with `"kind": "service"` is a
 * service token: `sub` names the backend, `scope` (space-separated) says what it may call
 * (scopes.ts). A refused token gets a message saying why (expired, unknown key, wrong
 * issuer...), never the key material.
 */

import { createContextKey, type Interceptor } from "@connectrpc/connect";
import {
  decodeProtectedHeader,
  errors,
  importSPKI,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
  SignJWT,
} from "jose";
import { createJwksKeySet, type JwksLogger, JwksUnavailableError } from "../adapters/auth/jwks-key-set.ts";
import { DomainError } from "../domain/errors.ts";
import { checkUserId } from "../domain/limits.ts";
import { isServiceScope, requiredScope, type ServiceScope, serviceScopes } from "./scopes.ts";

/** Which user is calling. */
export interface Identity {
  readonly userId: string;
  /** When the token expires (unix ms); streams end then. */
  readonly expiresAtMs: number;
}

/** Which backend of the messaging app is calling, and what it may do. */
export interface ServiceIdentity {
  readonly service: string;
  readonly scopes: readonly ServiceScope[];
  readonly expiresAtMs: number;
}

/** The context key under which the auth interceptor stores the calling user. */
export const identityKey = createContextKey<Identity | undefined>(undefined, { description: "caller identity" });
/** The context key under which the auth interceptor stores the calling service (internal RPCs only). */
export const serviceKey = createContextKey<ServiceIdentity | undefined>(undefined, { description: "calling service" });

/** Key material and claims to check. */
export interface AuthOptions {
  readonly hmacSecret?: string;
  readonly publicKeyPem?: string;
  readonly jwksUrl?: string;
  readonly jwksFile?: string;
  /** How long a fetched JWKS is used before it is fetched again (a removed key verifies that long). Default 10 min. */
  readonly jwksMaxAgeMs?: number;
  /** A token with an unknown `kid` refetches the JWKS at most this often. Default 30 s. */
  readonly jwksRefetchCooldownMs?: number;
  /** Where an outage of the JWKS source is reported (its start and its end). */
  readonly logger?: JwksLogger;
  readonly issuer: string;
  readonly audience: string;
}

/** Verifies bearer tokens; optionally issues dev tokens (local mode only). */
export interface Authenticator {
  verify(token: string): Promise<Identity | ServiceIdentity>;
  /** Present only when dev tokens are enabled. */
  readonly issueDevToken?: (userId: string, ttlS: number) => Promise<string>;
  /** Present only when dev tokens are enabled: a service token for `service` with `scopes`. */
  readonly issueDevServiceToken?: (service: string, scopes: readonly string[], ttlS: number) => Promise<string>;
}

/** Creates the authenticator; `devIssuer` enables dev tokens (requires an HMAC secret). */
export async function createAuthenticator(options: AuthOptions, devIssuer: boolean): Promise<Authenticator> {
  const secret = options.hmacSecret ? new TextEncoder().encode(options.hmacSecret) : undefined;
  const key: Uint8Array | CryptoKey | undefined = options.publicKeyPem
    ? await importSPKI(options.publicKeyPem, "RS256").catch(() => importSPKI(options.publicKeyPem as string, "ES256"))
    : secret;
  const getKey: JWTVerifyGetKey | undefined =
    options.jwksUrl || options.jwksFile
      ? await createJwksKeySet({
          url: options.jwksUrl,
          file: options.jwksFile,
          maxAgeMs: options.jwksMaxAgeMs,
          refetchCooldownMs: options.jwksRefetchCooldownMs,
          logger: options.logger,
        })
      : key && (async () => key);
  if (!getKey) throw new Error("auth: no verification key configured");
  const sign = (key: Uint8Array, claims: JWTPayload, subject: string, ttlS: number) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(subject)
      .setIssuer(options.issuer)
      .setAudience(options.audience)
      .setIssuedAt()
      .setExpirationTime(`${ttlS}s`)
      .sign(key);
  const claims = { issuer: options.issuer, audience: options.audience, requiredClaims: ["exp", "sub"] };
  return {
    async verify(token) {
      let payload: JWTPayload;
      try {
        payload = (await jwtVerify(token, getKey, claims)).payload;
      } catch (err) {
        throw refusal(token, err);
      }
      const subject = payload.sub ?? "";
      try {
        checkUserId(subject, "token subject");
      } catch (err) {
        throw new DomainError("unauthenticated", "invalid token subject", { cause: err });
      }
      const expiresAtMs = (payload.exp ?? 0) * 1000;
      if (payload.kind === "service") return { service: subject, scopes: scopesOf(payload), expiresAtMs };
      if (payload.kind !== undefined) throw new DomainError("unauthenticated", 'token "kind" not accepted');
      return { userId: subject, expiresAtMs };
    },
    ...(devIssuer && secret
      ? {
          issueDevToken: (userId: string, ttlS: number) => {
            checkUserId(userId);
            return sign(secret, {}, userId, ttlS);
          },
          issueDevServiceToken: (service: string, scopes: readonly string[], ttlS: number) => {
            checkUserId(service, "service");
            const unknown = scopes.find((x) => !isServiceScope(x));
            if (unknown !== undefined || scopes.length === 0) {
              throw new DomainError("invalid_argument", `scope must be one or more of: ${serviceScopes.join(", ")}`);
            }
            return sign(secret, { kind: "service", scope: scopes.join(" ") }, service, ttlS);
          },
        }
      : {}),
  };
}

/** The scopes of a service token: known ones only; a token with none is refused. */
function scopesOf(payload: JWTPayload): ServiceScope[] {
  const scopes = typeof payload.scope === "string" ? payload.scope.split(" ").filter(isServiceScope) : [];
  if (scopes.length === 0) throw new DomainError("unauthenticated", "service token has no known scope");
  return scopes;
}

/**
 * Why `token` was not accepted, as a client-safe DomainError: unauthenticated for a bad
 * token, unavailable when the keys could not be loaded (the client should retry).
 */
function refusal(token: string, err: unknown): DomainError {
  const fail = (message: string) => new DomainError("unauthenticated", message, { cause: err });
  if (err instanceof errors.JWTExpired) return fail("token expired");
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === "iss") return fail("token issuer not accepted");
    if (err.claim === "aud") return fail("token audience not accepted");
    if (err.reason === "missing") return fail(`token has no "${err.claim}" claim`);
    return fail(`token claim "${err.claim}" not accepted`);
  }
  if (err instanceof errors.JWKSNoMatchingKey) return fail(`token signed with an unknown key${kidOf(token)}`);
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return fail("token signing algorithm not accepted");
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return fail("token signature does not verify");
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return fail("malformed token");
  if (err instanceof JwksUnavailableError) {
    // Fetching or reading the key set failed (network, timeout, a broken file): the client should retry.
    return new DomainError("unavailable", "the keys that verify sign-in tokens could not be loaded; try again", {
      cause: err,
    });
  }
  return fail("invalid token");
}

/** ` (kid "…")` of the token's header, when it has one (the message names which key was unknown). */
function kidOf(token: string): string {
  try {
    const { kid } = decodeProtectedHeader(token);
    return typeof kid === "string" ? ` (kid ${JSON.stringify(kid.slice(0, 64))})` : " (no kid)";
  } catch {
    return "";
  }
}

/**
 * A Connect interceptor that requires `Authorization: Bearer <jwt>` and stores the caller:
 * internal RPCs (scopes.ts) take a service token with their scope, all others a user token.
 */
export function createAuthInterceptor(auth: Authenticator): Interceptor {
  return (next) => async (req) => {
    const header = req.header.get("authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) throw new DomainError("unauthenticated", "missing bearer token");
    const caller = await auth.verify(match[1]);
    const scope = requiredScope(req.service.typeName, req.method.name);
    if (scope !== undefined) {
      if (!("service" in caller)) {
        throw new DomainError("permission_denied", `${req.method.name} is for services: it takes a service token`);
      }
      if (!caller.scopes.includes(scope)) {
        throw new DomainError("permission_denied", `this service token lacks the "${scope}" scope`);
      }
      req.contextValues.set(serviceKey, caller);
    } else {
      if ("service" in caller) {
        throw new DomainError(
          "permission_denied",
          `a service token cannot call ${req.method.name}: it takes a user token`,
        );
      }
      req.contextValues.set(identityKey, caller);
    }
    return next(req);
  };
}
