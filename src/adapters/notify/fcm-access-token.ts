/**
 * An OAuth2 access token for FCM HTTP v1 from a Google service account (docs/spec.md §8
 * "Mobile push contract"): the JWT-bearer grant (RFC 7523) — an RS256 JWT with the account's
 * email as `iss`, the firebase.messaging scope and the key file's `token_uri` as `aud`, posted
 * to that `token_uri` — and the answer cached until a minute before it expires. Concurrent
 * pushes share one token request.
 */
import { createPrivateKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { SignJWT } from "jose";
import { z } from "zod";
import { withTimeout } from "./http-outcome.ts";

/** The scope FCM HTTP v1 needs. */
export const fcmScope = "https://www.googleapis.com/auth/firebase.messaging";

const serviceAccountSchema = z.object({
  type: z.literal("service_account"),
  project_id: z.string().min(1),
  private_key_id: z.string().min(1),
  private_key: z.string().min(1),
  client_email: z.string().min(1),
  token_uri: z.url(),
});

/** The fields of a service-account key file (the JSON the Firebase console downloads) this server uses. */
export type ServiceAccount = z.infer<typeof serviceAccountSchema>;

/** Reads and checks a service-account key file; the error names the config key and what is wrong. */
export function readServiceAccount(path: string): ServiceAccount {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`notifications.fcm.serviceAccountPath: cannot read ${path} as JSON: ${(err as Error).message}`);
  }
  const parsed = serviceAccountSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(
      `notifications.fcm.serviceAccountPath: ${path} is not a service-account key file:\n${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data;
}

/** Options of the token source. */
export interface FcmTokenOptions {
  readonly account: ServiceAccount;
  /** Per-request timeout (default 10 000). */
  readonly timeoutMs?: number;
  /** Unix time in ms (default Date.now). */
  readonly now?: () => number;
}

/** The current access token. */
export interface FcmAccessToken {
  /** A token valid for at least another minute; requests one when none is. */
  get(signal: AbortSignal): Promise<string>;
  /** FCM refused `token` (401): request a new one next time. */
  refused(token: string): void;
}

/** Creates the token source; throws at once for a private key that is not an RSA key PEM. */
export function createFcmAccessToken(options: FcmTokenOptions): FcmAccessToken {
  const { account } = options;
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const key = rsaKey(account.private_key);
  let current: { token: string; expiresAtMs: number } | undefined;
  let requesting: Promise<string> | undefined;

  async function request(signal: AbortSignal): Promise<string> {
    const iat = Math.floor(now() / 1000);
    const assertion = await new SignJWT({ scope: fcmScope })
      .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: account.private_key_id })
      .setIssuer(account.client_email)
      .setAudience(account.token_uri)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 3600)
      .sign(key);
    const res = await fetch(account.token_uri, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion }),
      signal: withTimeout(signal, timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`token endpoint answered ${res.status}: ${text.slice(0, 200)}`);
    const body = JSON.parse(text) as { access_token?: unknown; expires_in?: unknown };
    if (typeof body.access_token !== "string" || typeof body.expires_in !== "number") {
      throw new Error("token endpoint answered without access_token and expires_in");
    }
    current = { token: body.access_token, expiresAtMs: now() + body.expires_in * 1000 };
    return body.access_token;
  }

  return {
    get(signal) {
      if (current && now() < current.expiresAtMs - 60_000) return Promise.resolve(current.token);
      requesting ??= request(signal).finally(() => {
        requesting = undefined;
      });
      return requesting;
    },
    refused(token) {
      if (current?.token === token) current = undefined;
    },
  };
}

function rsaKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new Error(`notifications.fcm: the service account's private_key is not a PEM key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== "rsa")
    throw new Error("notifications.fcm: the service account's private_key must be RSA");
  return key;
}
