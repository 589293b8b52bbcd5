/**
 * The messaging app's JWT verification keys as a JWKS that changes while the server runs
 * (docs/key-rotation.md), from the issuer's URL or from a file (a mounted ConfigMap, which
 * the kubelet updates in place). jose's remote key set fetches, parses and matches keys; this
 * decides when it fetches, so that an outage of the source never refuses a token the last good
 * copy verifies:
 *
 * - a copy older than its max age is fetched again before verifying (at most once per cooldown,
 *   bounded by a short timeout); when that fails the last good copy keeps verifying;
 * - a token whose `kid` is not in the copy fetches again (at most once per cooldown, bounded by
 *   the timeout), so a key published before the issuer signs with it verifies at once; if the
 *   source cannot answer, the token is `unavailable`, not "unknown key";
 * - the first failure of an outage is logged as a warning, the recovery once at info.
 */
import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { createRemoteJWKSet, customFetch, errors, type JWTVerifyGetKey } from "jose";

/** Where the key set comes from and how long a fetched copy is trusted. */
export interface JwksSource {
  /** Exactly one of `url` and `file`. */
  readonly url?: string | undefined;
  readonly file?: string | undefined;
  /** A fetched set is used this long before it is fetched again (default 10 min). */
  readonly maxAgeMs?: number | undefined;
  /** The set is fetched again at most this often after an attempt, failed or not (default 30 s). */
  readonly refetchCooldownMs?: number | undefined;
  /** A fetch taking longer fails (default 2 s): a verification never waits longer for one. */
  readonly fetchTimeoutMs?: number | undefined;
  /** Where the start and the end of an outage of the source are reported. */
  readonly logger?: JwksLogger | undefined;
  /** Wall clock, unix ms (tests inject one). */
  readonly now?: (() => number) | undefined;
}

/** The part of the app's (pino) logger this uses. */
export interface JwksLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
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

const silent: JwksLogger = { warn() {}, info() {} };

/**
 * The key resolver for `jwtVerify`; it throws JwksUnavailableError when no copy of the set can
 * be had. A file is read once here, so a missing or invalid one fails at boot.
 */
export async function createJwksKeySet(source: JwksSource): Promise<JWTVerifyGetKey> {
  const file = source.file;
  if (!source.url && !file) throw new Error("jwks: neither a URL nor a file");
  const maxAgeMs = source.maxAgeMs ?? 600_000;
  const cooldownMs = source.refetchCooldownMs ?? 30_000;
  const now = source.now ?? Date.now;
  const logger = source.logger ?? silent;
  const where = source.url ?? file;
  // jose never fetches on its own (infinite max age and cooldown) except for the very first copy.
  const options = { cacheMaxAge: Number.POSITIVE_INFINITY, cooldownDuration: Number.POSITIVE_INFINITY };
  const timeoutDuration = source.fetchTimeoutMs ?? 2_000;
  const keySet = source.url
    ? createRemoteJWKSet(new URL(source.url), { ...options, timeoutDuration })
    : createRemoteJWKSet(pathToFileURL(file as string), {
        ...options,
        timeoutDuration,
        [customFetch]: async () => new Response(await readFile(file as string), { status: 200 }),
      });

  let fetchedAt = Number.NEGATIVE_INFINITY;
  let attemptedAt = Number.NEGATIVE_INFINITY;
  let outageSince: number | undefined;
  let pending: Promise<void> | undefined;
  /** Fetches the set once (concurrent callers share the fetch); the copy is kept when it fails. */
  const refresh = (): Promise<void> => {
    attemptedAt = now();
    pending ??= keySet
      .reload()
      .then(
        () => {
          fetchedAt = now();
          if (outageSince !== undefined) {
            logger.info({ jwks: where, outageMs: fetchedAt - outageSince }, "JWKS loaded again; the outage is over");
            outageSince = undefined;
          }
        },
        (err: unknown) => {
          if (outageSince === undefined) {
            outageSince = now();
            logger.warn(
              { jwks: where, err },
              keySet.jwks()
                ? "JWKS could not be loaded; verifying with the last good copy until it can"
                : "JWKS could not be loaded; sign-ins are refused as unavailable until it can",
            );
          }
          throw new JwksUnavailableError({ cause: err });
        },
      )
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
  const mayRefetch = () => now() - attemptedAt >= cooldownMs;

  if (file) await refresh();
  return async (header, token) => {
    if (!keySet.jwks()) await refresh();
    else if (now() - fetchedAt >= maxAgeMs && mayRefetch()) await refresh().catch(() => {});
    try {
      return await keySet(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey) || !mayRefetch()) throw classify(err);
    }
    await refresh();
    try {
      return await keySet(header, token);
    } catch (err) {
      throw classify(err);
    }
  };
}

/** A token fault as jose threw it; anything else means the set itself could not be used. */
function classify(err: unknown): unknown {
  if (err instanceof JwksUnavailableError || TOKEN_FAULTS.some((fault) => err instanceof fault)) return err;
  return new JwksUnavailableError({ cause: err });
}
