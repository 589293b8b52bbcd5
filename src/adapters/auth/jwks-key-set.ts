/**
 * The messaging app's JWT verification keys as a JWKS that changes while the server runs
 * (docs/key-rotation.md), from the issuer's URL or from a file (a mounted ConfigMap, which
 * the kubelet updates in place). jose's remote key set caches both the same way: a token
 * whose `kid` is unknown refetches the set (at most once per cooldown), so a key published
 * before the issuer signs with it verifies at once; the set is refetched when older than its
 * max age, so a removed key stops verifying within that time.
 */
import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { createRemoteJWKSet, customFetch, errors, type JWTVerifyGetKey } from "jose";

/** Where the key set comes from and how long a fetched copy is trusted. */
export interface JwksSource {
  /** Exactly one of `url` and `file`. */
  readonly url?: string | undefined;
  readonly file?: string | undefined;
  /** A fetched set is used this long before it is fetched again (jose's default: 10 min). */
  readonly maxAgeMs?: number | undefined;
  /** A token with an unknown `kid` refetches the set at most this often (jose's default: 30 s). */
  readonly refetchCooldownMs?: number | undefined;
}

/** The key set could not be fetched or read, or is not a JWKS: the server's problem, not the token's. */
export class JwksUnavailableError extends Error {
  constructor(options: { cause: unknown }) {
    super("the JWKS could not be loaded", options);
    this.name = "JwksUnavailableError";
  }
}

/** What the key set throws because of the token itself (its `kid` or `alg`). */
const TOKEN_FAULTS = [
  errors.JWKSNoMatchingKey,
  errors.JWKSMultipleMatchingKeys,
  errors.JOSENotSupported,
  errors.JWSInvalid,
];

/**
 * The key resolver for `jwtVerify`; it throws JwksUnavailableError when the set cannot be
 * loaded. A file is read once here, so a missing or invalid one fails at boot.
 */
export async function createJwksKeySet(source: JwksSource): Promise<JWTVerifyGetKey> {
  const options = { cacheMaxAge: source.maxAgeMs, cooldownDuration: source.refetchCooldownMs };
  const file = source.file;
  if (!source.url && !file) throw new Error("jwks: neither a URL nor a file");
  const keySet = source.url
    ? createRemoteJWKSet(new URL(source.url), options)
    : createRemoteJWKSet(pathToFileURL(file as string), {
        ...options,
        [customFetch]: async () => new Response(await readFile(file as string), { status: 200 }),
      });
  if (file) await keySet.reload();
  return async (header, token) => {
    try {
      return await keySet(header, token);
    } catch (err) {
      if (TOKEN_FAULTS.some((fault) => err instanceof fault)) throw err;
      throw new JwksUnavailableError({ cause: err });
    }
  };
}
