/**
 * A Web Push service for tests, on 127.0.0.1: it hands out subscriptions (a P-256
 * key pair made with node:crypto ECDH and a random 16-byte auth secret, as a
 * browser does), and for each push it checks the VAPID JWT (RFC 8292: ES256,
 * aud = origin of the endpoint, sub, exp within 24 h, signed by the expected
 * application server key) with jose, and decrypts the aes128gcm body (RFC 8291,
 * RFC 8188) with the subscription's private key, independently of web-push.
 * Failures can be scripted per subscription: an HTTP status or a timeout.
 */
import { createDecipheriv, createECDH, type ECDH, hkdfSync, randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { importJWK, jwtVerify } from "jose";

/** What the push service received and accepted. */
export interface ReceivedPush {
  readonly subscriptionId: string;
  readonly payload: Record<string, unknown>;
  readonly ttl: number;
  readonly urgency: string | undefined;
  readonly topic: string | undefined;
  readonly jwt: { aud: string; sub: string; exp: number };
}

/** A scripted answer instead of accepting a push. */
export type PushFailure = number | "timeout";

/** A subscription as a browser would hand it to the app. */
export interface TestSubscription {
  readonly id: string;
  readonly endpoint: string;
  readonly p256dh: string;
  readonly auth: string;
}

/** The running service. */
export interface LocalPushService {
  readonly origin: string;
  /** Every accepted push, in arrival order. */
  readonly received: ReceivedPush[];
  /** Requests refused by verification (should stay empty in a correct run), with the reason. */
  readonly refused: string[];
  /** Requests of any outcome, per subscription id. */
  attempts(subscriptionId: string): number;
  subscribe(): TestSubscription;
  /** The next answers for this subscription (then it accepts again). */
  failNext(subscriptionId: string, ...failures: PushFailure[]): void;
  /** Makes the subscription answer 410 Gone from now on. */
  expire(subscriptionId: string): void;
  close(): Promise<void>;
}

interface Sub {
  readonly ecdh: ECDH;
  readonly auth: Buffer;
  readonly failures: PushFailure[];
  gone: boolean;
  attempts: number;
}

/** Starts the service; pushes must be signed with `vapidPublicKey` (base64url). */
export async function startLocalPushService(vapidPublicKey: string): Promise<LocalPushService> {
  const subs = new Map<string, Sub>();
  const received: ReceivedPush[] = [];
  const refused: string[] = [];
  const hanging = new Set<ServerResponse>();
  let origin = "";

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = Buffer.concat(await req.toArray());
    const id = /^\/push\/([\w-]+)$/.exec(req.url ?? "")?.[1];
    const sub = id === undefined ? undefined : subs.get(id);
    if (req.method !== "POST" || !id || !sub) return void res.writeHead(404).end();
    sub.attempts += 1;
    const failure = sub.gone ? 410 : sub.failures.shift();
    if (failure === "timeout") return void hanging.add(res);
    if (failure !== undefined) return void res.writeHead(failure).end();
    try {
      const jwt = await verifyVapid(req.headers.authorization ?? "", vapidPublicKey, origin);
      if (req.headers["content-encoding"] !== "aes128gcm") throw new Error("content-encoding must be aes128gcm");
      const ttl = Number(req.headers.ttl);
      if (!Number.isInteger(ttl) || ttl < 0) throw new Error("TTL header missing or malformed");
      const plain = decryptAes128gcm(body, sub.ecdh, sub.auth);
      received.push({
        subscriptionId: id,
        payload: JSON.parse(plain.toString("utf8")) as Record<string, unknown>,
        ttl,
        urgency: req.headers.urgency as string | undefined,
        topic: req.headers.topic as string | undefined,
        jwt,
      });
      res.writeHead(201, { Location: `${origin}/message/${randomUUID()}` }).end();
    } catch (err) {
      refused.push(err instanceof Error ? err.message : String(err));
      res.writeHead(403).end();
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    received,
    refused,
    attempts: (id) => subs.get(id)?.attempts ?? 0,
    subscribe() {
      const ecdh = createECDH("prime256v1");
      ecdh.generateKeys();
      const id = randomUUID();
      const auth = randomBytes(16);
      subs.set(id, { ecdh, auth, failures: [], gone: false, attempts: 0 });
      return {
        id,
        endpoint: `${origin}/push/${id}`,
        p256dh: ecdh.getPublicKey().toString("base64url"),
        auth: auth.toString("base64url"),
      };
    },
    failNext(id, ...failures) {
      subs.get(id)?.failures.push(...failures);
    },
    expire(id) {
      const sub = subs.get(id);
      if (sub) sub.gone = true;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Verifies `vapid t=<jwt>, k=<key>` (RFC 8292 §3) and returns the JWT claims. */
async function verifyVapid(header: string, expectedKey: string, origin: string) {
  const m = /^vapid t=([\w-]+\.[\w-]+\.[\w-]+),\s*k=([\w-]+)$/.exec(header);
  if (!m) throw new Error(`Authorization is not a vapid header: ${header.slice(0, 40)}`);
  const [, token, key] = m as unknown as [string, string, string];
  if (key !== expectedKey) throw new Error("k is not the application server key the subscription was made with");
  const raw = Buffer.from(key, "base64url");
  if (raw.length !== 65 || raw[0] !== 4) throw new Error("k is not an uncompressed P-256 point");
  const jwk = {
    kty: "EC",
    crv: "P-256",
    x: raw.subarray(1, 33).toString("base64url"),
    y: raw.subarray(33).toString("base64url"),
  };
  const { payload, protectedHeader } = await jwtVerify(token, await importJWK(jwk, "ES256"), {
    algorithms: ["ES256"],
    audience: origin,
    requiredClaims: ["exp", "sub"],
  });
  if (protectedHeader.alg !== "ES256") throw new Error("alg must be ES256");
  const exp = payload.exp as number;
  if (exp > Date.now() / 1000 + 86_400) throw new Error("exp more than 24 h ahead");
  const sub = payload.sub as string;
  if (!/^(mailto:|https:)/.test(sub)) throw new Error("sub must be a mailto: or https: URL");
  return { aud: payload.aud as string, sub, exp };
}

/** RFC 8291 §3.4 / RFC 8188: decrypts a single-record aes128gcm message for the subscription. */
function decryptAes128gcm(body: Buffer, ua: ECDH, authSecret: Buffer): Buffer {
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20] as number;
  const asPublic = body.subarray(21, 21 + idlen);
  const record = body.subarray(21 + idlen);
  if (idlen !== 65) throw new Error("keyid must be the 65-byte application server public key");
  if (record.length > rs) throw new Error("more than one record");
  const ecdhSecret = ua.computeSecret(asPublic);
  const keyInfo = Buffer.concat([Buffer.from("WebPush: info\0"), ua.getPublicKey(), asPublic]);
  const ikm = Buffer.from(hkdfSync("sha256", ecdhSecret, authSecret, keyInfo, 32));
  const cek = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: aes128gcm\0"), 16));
  const nonce = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: nonce\0"), 12));
  const decipher = createDecipheriv("aes-128-gcm", cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (padded[end] !== 2) throw new Error("last record must end with the 0x02 delimiter");
  return padded.subarray(0, end);
}
