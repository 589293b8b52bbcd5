/**
 * An FCM HTTP v1 peer for tests (docs/spec.md §8 "Mobile push contract"), on 127.0.0.1: the
 * OAuth2 token endpoint of the service account (`POST /token`: a JWT-bearer grant whose
 * assertion must verify with the account's public key, name the account as `iss`, the
 * token endpoint as `aud` and the firebase.messaging scope) and `messages:send` (a Bearer
 * token it issued, a data message with `proto` decoding as calldrop.push.v1.PushNotification,
 * `android.priority`, `ttl` and `collapse_key`). Failures are scripted per device token.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { importSPKI, jwtVerify } from "jose";
import type { PushNotification } from "../../gen/calldrop/push/v1/push_pb.js";
import { fcmScope } from "../../src/adapters/notify/fcm-access-token.ts";
import { decodePushNotification } from "../../src/codec/push-notification.ts";

/** One accepted message. */
export interface FcmDelivery {
  readonly token: string;
  readonly android: { priority: string; ttl: string; collapse_key: string };
  readonly decoded: PushNotification;
  readonly accessToken: string;
}

/** A scripted answer: an HTTP status and optionally an FcmError errorCode. */
export interface FcmFailure {
  readonly status: number;
  readonly errorCode?: string;
}

/** The running peer. */
export interface LocalFcm {
  /** Base URL for messages:send. */
  readonly url: string;
  /** The token_uri to put in the service-account file. */
  readonly tokenUri: string;
  readonly delivered: FcmDelivery[];
  readonly refused: string[];
  /** Token endpoint requests answered. */
  tokenRequests(): number;
  /** Forgets the access tokens issued so far (as if they were revoked). */
  revokeTokens(): void;
  failNext(token: string, ...failures: FcmFailure[]): void;
  close(): Promise<void>;
}

/** Starts the peer for a project, trusting the service account `clientEmail` with key `publicKeyPem` (SPKI). */
export async function startLocalFcm(o: {
  projectId: string;
  clientEmail: string;
  publicKeyPem: string;
}): Promise<LocalFcm> {
  const publicKey = await importSPKI(o.publicKeyPem, "RS256");
  const delivered: FcmDelivery[] = [];
  const refused: string[] = [];
  const failures = new Map<string, FcmFailure[]>();
  const issued = new Set<string>();
  let tokenRequests = 0;
  let base = "";

  function json(res: ServerResponse, status: number, body: unknown): undefined {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    return undefined;
  }

  async function token(raw: string, res: ServerResponse): Promise<void> {
    const form = new URLSearchParams(raw);
    if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") {
      refused.push(`grant_type ${form.get("grant_type")}`);
      return json(res, 400, { error: "unsupported_grant_type" });
    }
    try {
      const { payload } = await jwtVerify(form.get("assertion") ?? "", publicKey, {
        issuer: o.clientEmail,
        audience: `${base}/token`,
        algorithms: ["RS256"],
      });
      if (payload.scope !== fcmScope) throw new Error(`scope ${String(payload.scope)}`);
    } catch (err) {
      refused.push(`assertion: ${(err as Error).message}`);
      return json(res, 400, { error: "invalid_grant" });
    }
    tokenRequests++;
    const access = `ya29.test-${tokenRequests}`;
    issued.add(access);
    json(res, 200, { access_token: access, expires_in: 3599, token_type: "Bearer" });
  }

  function send(req: IncomingMessage, raw: string, res: ServerResponse): undefined {
    const access = String(req.headers.authorization ?? "").replace(/^Bearer /, "");
    if (!issued.has(access)) {
      refused.push("unknown access token");
      return json(res, 401, { error: { code: 401, status: "UNAUTHENTICATED" } });
    }
    const { message } = JSON.parse(raw) as {
      message: { token: string; data: Record<string, string>; android: FcmDelivery["android"] };
    };
    const { android } = message;
    const problem = !["HIGH", "NORMAL"].includes(android?.priority)
      ? `priority ${android?.priority}`
      : !/^\d+(\.\d+)?s$/.test(android?.ttl ?? "")
        ? `ttl ${android?.ttl}`
        : !android?.collapse_key
          ? "no collapse_key"
          : Object.keys(message.data ?? {}).join() !== "proto"
            ? `data keys ${Object.keys(message.data ?? {})}`
            : undefined;
    if (problem) {
      refused.push(problem);
      return json(res, 400, { error: { code: 400, status: "INVALID_ARGUMENT", message: problem } });
    }
    const failure = failures.get(message.token)?.shift();
    if (failure) {
      const details = failure.errorCode
        ? [{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode: failure.errorCode }]
        : [];
      return json(res, failure.status, { error: { code: failure.status, details } });
    }
    const decoded = decodePushNotification(message.data.proto ?? "");
    delivered.push({ token: message.token, android, decoded, accessToken: access });
    return json(res, 200, { name: `projects/${o.projectId}/messages/${delivered.length}` });
  }

  const server = createServer((req, res) => {
    void (async () => {
      const raw = Buffer.concat(await req.toArray()).toString("utf8");
      if (req.method === "POST" && req.url === "/token") return token(raw, res);
      if (req.method === "POST" && req.url === `/v1/projects/${o.projectId}/messages:send`) return send(req, raw, res);
      refused.push(`${req.method} ${req.url}`);
      json(res, 404, { error: { code: 404 } });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;
  return {
    url: base,
    tokenUri: `${base}/token`,
    delivered,
    refused,
    tokenRequests: () => tokenRequests,
    revokeTokens: () => issued.clear(),
    failNext(token, ...f) {
      failures.set(token, [...(failures.get(token) ?? []), ...f]);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
