/**
 * The APNs provider authentication token (docs/spec.md §8 "Mobile push contract"): an ES256
 * JWT with the key id in `kid`, the team id in `iss` and `iat`, signed with the .p8 key from
 * Apple. Apple refuses a token older than an hour (403 ExpiredProviderToken) and one renewed
 * more often than every 20 minutes (429 TooManyProviderTokenUpdates), so one token is reused
 * for `refreshMs` (20–60 min) and renewed early only when APNs said it expired and it is at
 * least 20 minutes old.
 */
import { createPrivateKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { SignJWT } from "jose";

/** Apple's floor between two token renewals. */
export const minTokenRefreshMs = 20 * 60_000;
/** Apple's ceiling on a token's age. */
export const maxTokenRefreshMs = 60 * 60_000;

/** What signs the token (config: `notifications.apns`). */
export interface ApnsTokenOptions {
  /** The 10-character key id of the APNs auth key. */
  readonly keyId: string;
  /** The 10-character team id. */
  readonly teamId: string;
  /** The auth key, PKCS#8 PEM (the .p8 file). */
  readonly privateKeyPem: string;
  /** Reuse a token this long (default 40 min; 20–60 min). */
  readonly refreshMs?: number;
  /** Unix time in ms (default Date.now). */
  readonly now?: () => number;
}

/** The current provider token. */
export interface ApnsProviderToken {
  /** A token at most `refreshMs` old; signs a new one when due. */
  get(): Promise<string>;
  /** APNs answered ExpiredProviderToken to `token`: renew it on the next `get` if Apple allows it yet. */
  expired(token: string): void;
}

/** Reads the .p8 key file; the error names the config key. */
export function readApnsKey(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`notifications.apns.privateKeyPath: cannot read ${path}: ${(err as Error).message}`);
  }
}

/** Creates the token source; throws at once for a key that is not a P-256 private key PEM. */
export function createApnsProviderToken(options: ApnsTokenOptions): ApnsProviderToken {
  const refreshMs = options.refreshMs ?? 40 * 60_000;
  if (refreshMs < minTokenRefreshMs || refreshMs > maxTokenRefreshMs) {
    throw new Error("notifications.apns.tokenRefreshMs must be between 20 and 60 minutes (Apple's limits)");
  }
  const now = options.now ?? Date.now;
  const key = p256Key(options.privateKeyPem);
  let current: { token: string; issuedAtMs: number } | undefined;
  let renewing: Promise<string> | undefined;

  async function sign(): Promise<string> {
    const issuedAtMs = now();
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: "ES256", kid: options.keyId })
      .setIssuer(options.teamId)
      .setIssuedAt(Math.floor(issuedAtMs / 1000))
      .sign(key);
    current = { token, issuedAtMs };
    return token;
  }

  return {
    get() {
      if (current && now() - current.issuedAtMs < refreshMs) return Promise.resolve(current.token);
      renewing ??= sign().finally(() => {
        renewing = undefined;
      });
      return renewing;
    },
    expired(token) {
      if (current?.token === token && now() - current.issuedAtMs >= minTokenRefreshMs) current = undefined;
    },
  };
}

function p256Key(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new Error(`notifications.apns: the auth key is not a private key PEM: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    throw new Error("notifications.apns: the auth key must be a P-256 (ES256) key, as Apple issues them");
  }
  return key;
}
