/**
 * An APNs provider API peer for tests (docs/spec.md §8 "Mobile push contract"): HTTP/2 over
 * TLS on 127.0.0.1 with a self-signed certificate. Like Apple it accepts only
 * `POST /3/device/<token>` with a provider token it can verify (ES256 with the team's
 * public key, `kid` and `iss` as configured, `iat` under an hour old by the test's clock), checks the headers
 * (push type, topic, priority, expiration, collapse id) against each other and the
 * payload, and decodes `proto` as calldrop.push.v1.PushNotification. Failures are scripted
 * per token as a status and an APNs `reason`.
 */
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { decodeProtectedHeader, importSPKI, jwtVerify } from "jose";
import type { PushNotification } from "../../gen/calldrop/push/v1/push_pb.js";
import { decodePushNotification } from "../../src/codec/push-notification.ts";
import { selfSignedCert } from "../support/self-signed-cert.ts";

/** One accepted push. */
export interface ApnsDelivery {
  readonly token: string;
  readonly headers: Record<string, string>;
  readonly body: { aps?: Record<string, unknown>; proto: string };
  readonly decoded: PushNotification;
  /** The provider token's `iat`. */
  readonly iat: number;
}

/** The running peer. */
export interface LocalApns {
  readonly url: string;
  /** The peer's certificate, to trust in the sender. */
  readonly ca: string;
  readonly delivered: ApnsDelivery[];
  /** Requests refused for a protocol error, with why. */
  readonly refused: string[];
  /** Distinct provider tokens seen. */
  readonly providerTokens: Set<string>;
  failNext(token: string, ...failures: { status: number; reason: string }[]): void;
  close(): Promise<void>;
}

/** Options: the identity the provider tokens must carry. */
export interface LocalApnsOptions {
  readonly keyId: string;
  readonly teamId: string;
  /** SPKI PEM of the auth key. */
  readonly publicKeyPem: string;
  readonly bundleId: string;
  /** The clock token ages are judged by (the test's manual clock), unix ms. */
  readonly now: () => number;
}

/** Starts the peer. */
export async function startLocalApns(o: LocalApnsOptions): Promise<LocalApns> {
  const { key, cert } = selfSignedCert();
  const publicKey = await importSPKI(o.publicKeyPem, "ES256");
  const delivered: ApnsDelivery[] = [];
  const refused: string[] = [];
  const providerTokens = new Set<string>();
  const failures = new Map<string, { status: number; reason: string }[]>();
  const server = http2.createSecureServer({ key, cert, allowHTTP1: false });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });

  async function check(h: http2.IncomingHttpHeaders, raw: string): Promise<ApnsDelivery | string> {
    const path = String(h[":path"]);
    const match = /^\/3\/device\/([0-9a-f]+)$/.exec(path);
    if (h[":method"] !== "POST" || !match?.[1]) return `bad request line ${h[":method"]} ${path}`;
    const auth = String(h.authorization ?? "");
    if (!auth.startsWith("bearer ")) return "MissingProviderToken";
    const jwt = auth.slice("bearer ".length);
    let iat: number;
    try {
      const header = decodeProtectedHeader(jwt);
      if (header.alg !== "ES256" || header.kid !== o.keyId)
        return `InvalidProviderToken header ${JSON.stringify(header)}`;
      const { payload } = await jwtVerify(jwt, publicKey, { issuer: o.teamId, algorithms: ["ES256"] });
      iat = payload.iat ?? 0;
      if (o.now() - iat * 1000 > 3_600_000) return "ExpiredProviderToken";
    } catch (err) {
      return `InvalidProviderToken ${(err as Error).message}`;
    }
    const type = String(h["apns-push-type"] ?? "");
    const topic = String(h["apns-topic"] ?? "");
    const priority = String(h["apns-priority"] ?? "");
    const expiration = Number(h["apns-expiration"]);
    const collapse = String(h["apns-collapse-id"] ?? "");
    if (!["voip", "alert", "background"].includes(type)) return `InvalidPushType ${type}`;
    if (topic !== (type === "voip" ? `${o.bundleId}.voip` : o.bundleId)) return `TopicDisallowed ${topic} for ${type}`;
    if (type === "background" && priority !== "5") return "BadPriority: background pushes must be priority 5";
    if (!["5", "10"].includes(priority)) return `BadPriority ${priority}`;
    if (!Number.isInteger(expiration) || expiration <= 0) return "BadExpirationDate";
    if (Buffer.byteLength(collapse) > 64) return "BadCollapseId";
    if (h["content-type"] !== "application/json") return "bad content-type";
    const limit = type === "voip" ? 5120 : 4096;
    if (Buffer.byteLength(raw) > limit) return "PayloadTooLarge";
    const body = JSON.parse(raw) as ApnsDelivery["body"];
    const decoded = decodePushNotification(body.proto);
    if ((type === "voip") !== (decoded.kind.case === "incomingCall")) {
      return `a ${type} push carrying ${decoded.kind.case}: VoIP pushes must be exactly the incoming calls`;
    }
    if (type === "background" && body.aps?.["content-available"] !== 1)
      return "background push without content-available";
    if (type === "alert" && !body.aps?.alert) return "alert push without an alert";
    providerTokens.add(jwt);
    const headers = Object.fromEntries(
      Object.entries(h)
        .filter(([k]) => k.startsWith("apns-"))
        .map(([k, v]) => [k, String(v)]),
    );
    return { token: match[1], headers, body, decoded, iat };
  }

  server.on("stream", (stream, h) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      void (async () => {
        const result = await check(h, Buffer.concat(chunks).toString("utf8"));
        const reply = (status: number, reason?: string) => {
          if (stream.destroyed) return;
          stream.respond({ ":status": status, "content-type": "application/json" });
          stream.end(reason ? JSON.stringify({ reason }) : undefined);
        };
        if (typeof result === "string") {
          refused.push(result);
          return reply(result.startsWith("ExpiredProviderToken") ? 403 : 400, result.split(" ")[0]);
        }
        const failure = failures.get(result.token)?.shift();
        if (failure) return reply(failure.status, failure.reason);
        delivered.push(result);
        reply(200);
      })();
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    ca: cert,
    delivered,
    refused,
    providerTokens,
    failNext(token, ...f) {
      failures.set(token, [...(failures.get(token) ?? []), ...f]);
    },
    async close() {
      for (const s of sessions) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
