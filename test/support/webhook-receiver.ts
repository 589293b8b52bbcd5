/**
 * A local HTTP receiver of webhooks for tests (docs/spec.md §9 "Webhooks"): records every request
 * (headers, raw body, the status it answered) and answers what `respond` says, by default 200.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/** One request the receiver got. */
export interface ReceivedWebhook {
  readonly id: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** What the receiver answered. */
  readonly status: number;
}

/** A running receiver. */
export interface WebhookReceiver {
  readonly url: string;
  readonly received: ReceivedWebhook[];
  /** Requests with this webhook-id, in arrival order. */
  of(id: string): ReceivedWebhook[];
  /** Requests answered 2xx (deliveries). */
  delivered(): ReceivedWebhook[];
  /** Changes the answer from now on. */
  respond(fn: (req: { id: string; headers: IncomingHttpHeaders; body: string; nth: number }) => number): void;
  close(): Promise<void>;
}

/** Starts a receiver on a free port of 127.0.0.1. */
export async function startWebhookReceiver(
  respond: (req: { id: string; headers: IncomingHttpHeaders; body: string; nth: number }) => number = () => 200,
): Promise<WebhookReceiver> {
  let answer = respond;
  const received: ReceivedWebhook[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const id = String(req.headers["webhook-id"] ?? "");
      const nth = received.filter((r) => r.id === id).length + 1;
      const status = answer({ id, headers: req.headers, body, nth });
      received.push({ id, headers: req.headers, body, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    of: (id) => received.filter((r) => r.id === id),
    delivered: () => received.filter((r) => r.status >= 200 && r.status < 300),
    respond(fn) {
      answer = fn;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
