/**
 * A mobile push gateway for tests, on 127.0.0.1: it verifies the webhook's
 * HMAC-SHA256 signature over `${timestamp}.${body}` (constant-time compare,
 * timestamp within 5 minutes), requires an Idempotency-Key equal to the body's
 * id, and records deliveries. Failures are scripted per token: an HTTP status or
 * a timeout (the request is held until the client gives up).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One accepted webhook call. */
export interface GatewayDelivery {
  readonly idempotencyKey: string;
  readonly body: {
    id: string;
    platform: string;
    token: string;
    kind: string;
    priority: string;
    collapseKey: string;
    ttlSeconds: number;
    payload: Record<string, unknown>;
  };
}

/** A scripted answer instead of accepting. */
export type GatewayFailure = number | "timeout";

/** The running gateway. */
export interface LocalGateway {
  readonly url: string;
  readonly delivered: GatewayDelivery[];
  /** Requests whose signature or headers did not verify. */
  readonly refused: string[];
  /** Requests of any outcome per token. */
  attempts(token: string): number;
  failNext(token: string, ...failures: GatewayFailure[]): void;
  /** Every request fails with this status until cleared (undefined). */
  setOutage(status: number | undefined): void;
  close(): Promise<void>;
}

/** Starts the gateway with the shared `secret`. */
export async function startLocalGateway(secret: string): Promise<LocalGateway> {
  const delivered: GatewayDelivery[] = [];
  const refused: string[] = [];
  const failures = new Map<string, GatewayFailure[]>();
  const attempts = new Map<string, number>();
  const hanging = new Set<ServerResponse>();
  let outage: number | undefined;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = Buffer.concat(await req.toArray()).toString("utf8");
    const timestamp = String(req.headers["x-calldrop-timestamp"] ?? "");
    const signature = String(req.headers["x-calldrop-signature"] ?? "");
    const expected = `v1=${createHmac("sha256", secret).update(`${timestamp}.${raw}`).digest("hex")}`;
    const ok = signature.length === expected.length && timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
    if (!ok || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) {
      refused.push(ok ? "stale timestamp" : "bad signature");
      return void res.writeHead(401).end();
    }
    const body = JSON.parse(raw) as GatewayDelivery["body"];
    const key = String(req.headers["idempotency-key"] ?? "");
    if (key !== body.id || req.headers["content-type"] !== "application/json") {
      refused.push("idempotency key or content type");
      return void res.writeHead(400).end();
    }
    attempts.set(body.token, (attempts.get(body.token) ?? 0) + 1);
    const failure = outage ?? failures.get(body.token)?.shift();
    if (failure === "timeout") return void hanging.add(res);
    if (failure !== undefined) return void res.writeHead(failure).end();
    delivered.push({ idempotencyKey: key, body });
    res.writeHead(202, { "Content-Type": "application/json" }).end("{}");
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/push`;
  return {
    url,
    delivered,
    refused,
    attempts: (token) => attempts.get(token) ?? 0,
    failNext(token, ...f) {
      failures.set(token, [...(failures.get(token) ?? []), ...f]);
    },
    setOutage(status) {
      outage = status;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
