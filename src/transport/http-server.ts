/**
 * One port for everything (docs/spec.md §2): gRPC and gRPC-Web and Connect over
 * HTTP/2 (h2c) and HTTP/1.1, plus /healthz, /readyz, /metrics, the dev token
 * issuer and the static web client. Plain-text HTTP/2 and HTTP/1.1 are told apart
 * by the HTTP/2 connection preface ("PRI * HTTP/2.0…") at the start of the socket.
 * Plain-text HTTP/2 is what gRPC clients speak (browsers use HTTP/1.1 or TLS).
 */

import { existsSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import net, { type AddressInfo } from "node:net";
import { cors as connectCors } from "@connectrpc/connect";
import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import cors from "cors";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import sirv from "sirv";
import { isDomainError } from "../domain/errors.ts";
import type { Authenticator } from "./auth.ts";
import type { Http2Engine } from "./grpc-js-engine.ts";

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;
type Handler = (req: Req, res: Res) => void;

/** What the HTTP layer serves besides RPCs. */
export interface HttpServerDeps {
  /** The connect-node adapter (gRPC, gRPC-Web, Connect). */
  readonly rpc: Handler;
  readonly registry: Registry;
  readonly isReady: () => boolean;
  readonly auth: Authenticator;
  readonly devTokenTtlS: number;
  /** The VAPID public key (base64url) the web client subscribes with; absent when Web Push is off. */
  readonly webPushPublicKey?: string | undefined;
  /** Where failures of the routes are logged. */
  readonly logger: Logger;
  /** Origins whose pages may call every route (CORS); empty: same origin only. */
  readonly corsAllowedOrigins: readonly string[];
}

/** A listening server. */
export interface HttpServer {
  listen(port: number, host: string): Promise<AddressInfo>;
  /** Stops accepting, then ends open connections after `graceMs`. */
  close(graceMs: number): Promise<void>;
}

/**
 * Routes plain HTTP paths; everything else goes to the RPC handler, then static files.
 * Whatever a route throws or rejects with becomes an error response, never a crash:
 * 400 with the message of a DomainError, else 500 (logged, details hidden). CORS comes
 * first: preflights are answered for every path, and only allowed origins are named in
 * Access-Control-Allow-Origin (the Connect protocols' methods and headers, plus the bearer token).
 */
export function createRouter(deps: HttpServerDeps): Handler {
  const allowCors = cors({
    origin: [...deps.corsAllowedOrigins],
    methods: [...connectCors.allowedMethods],
    allowedHeaders: [...connectCors.allowedHeaders, "Authorization"],
    exposedHeaders: [...connectCors.exposedHeaders],
    maxAge: 7200,
  });
  const route = (req: Req, res: Res): Promise<void> | undefined => {
    // A path only (never "//host…", which would parse as another origin): req.url is client text.
    const url = new URL(`http://localhost/${(req.url ?? "/").replace(/^\/+/, "")}`);
    if (req.method === "GET" && url.pathname === "/healthz") return text(res, 200, "ok\n");
    if (req.method === "GET" && url.pathname === "/readyz") {
      return deps.isReady() ? text(res, 200, "ready\n") : text(res, 503, "not ready\n");
    }
    if (req.method === "GET" && url.pathname === "/metrics") {
      return deps.registry.metrics().then((body) => text(res, 200, body, deps.registry.contentType));
    }
    if (req.method === "GET" && url.pathname === "/client-config") {
      return text(res, 200, JSON.stringify({ webPushPublicKey: deps.webPushPublicKey ?? null }), "application/json");
    }
    if (req.method === "GET" && url.pathname === "/dev/token") {
      const issue = deps.auth.issueDevToken;
      if (!issue) return text(res, 404, "dev tokens are only issued in local mode\n");
      return issue(url.searchParams.get("user") ?? "", deps.devTokenTtlS).then((token) =>
        text(res, 200, JSON.stringify({ token, expiresInS: deps.devTokenTtlS }), "application/json"),
      );
    }
    if (req.method === "GET" && url.pathname === "/dev/service-token") {
      const issue = deps.auth.issueDevServiceToken;
      if (!issue) return text(res, 404, "dev tokens are only issued in local mode\n");
      const scopes = (url.searchParams.get("scope") ?? "").split(/[ ,]+/).filter(Boolean);
      return issue(url.searchParams.get("service") ?? "", scopes, deps.devTokenTtlS).then((token) =>
        text(res, 200, JSON.stringify({ token, expiresInS: deps.devTokenTtlS }), "application/json"),
      );
    }
    deps.rpc(req, res);
  };
  const fail = (req: Req, res: Res, err: unknown) => {
    if (!isDomainError(err)) deps.logger.error({ err, method: req.method, url: req.url }, "HTTP handler failed");
    if (res.headersSent)
      ("stream" in res ? res.stream : res).destroy(); // too late for a status: cut it short
    else if (isDomainError(err)) text(res, 400, `${err.message}\n`);
    else text(res, 500, "internal error\n");
  };
  return (req, res) => {
    try {
      // The cors middleware calls back synchronously (the origins are static), so this try covers the route.
      allowCors(req, res, (err?: unknown) => {
        if (err) throw err;
        route(req, res)?.catch((e: unknown) => fail(req, res, e));
      });
    } catch (err) {
      fail(req, res, err);
    }
  };
}

function text(res: Res, status: number, body: string, type = "text/plain; charset=utf-8"): undefined {
  res.statusCode = status;
  res.setHeader("content-type", type);
  res.setHeader("cache-control", "no-store");
  res.end(body);
  return undefined;
}

/** The handler for requests no RPC route matched. */
export function createFallback(staticDir: string): NonNullable<ConnectNodeAdapterOptions["fallback"]> {
  const serveStatic = existsSync(staticDir) ? sirv(staticDir, { single: true, etag: true }) : undefined;
  return (req, res) => {
    const notFound = () => {
      res.statusCode = 404;
      res.setHeader("content-type", "text/plain; charset=utf-8");
      res.end(serveStatic ? "not found\n" : "not found (web client not built: npm run build:web)\n");
    };
    if (!serveStatic || (req.method !== "GET" && req.method !== "HEAD")) return notFound();
    serveStatic(req as http.IncomingMessage, res as unknown as http.ServerResponse, notFound);
  };
}

/**
 * Creates the single-port server around `handler`. HTTP/2 connections go to
 * `http2Connection` when given (the grpc-js engine), else to the same handler.
 */
export function createHttpServer(handler: Handler, logger: Logger, http2Connection?: Http2Engine): HttpServer {
  const h2 = http2.createServer({ settings: { maxConcurrentStreams: 1000 } }, handler);
  const h1 = http.createServer(handler);
  h1.keepAliveTimeout = 65_000;
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", (err) => logger.debug({ err }, "socket error"));
    socket.once("data", (chunk: Buffer) => {
      socket.pause();
      socket.unshift(chunk);
      const isHttp2 = chunk.subarray(0, 3).toString("latin1") === "PRI";
      if (isHttp2) {
        // The http2 session reads the buffered bytes itself; resuming would flow them away.
        if (http2Connection) http2Connection.inject(socket);
        else h2.emit("connection", socket);
      } else {
        h1.emit("connection", socket);
        socket.resume();
      }
    });
  });
  const sessions = new Set<http2.Http2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });
  h2.on("sessionError", (err) => logger.debug({ err }, "http2 session error"));
  return {
    listen(port, host) {
      return new Promise((resolve, reject) => {
        tcp.once("error", reject);
        tcp.listen(port, host, () => resolve(tcp.address() as AddressInfo));
      });
    },
    async close(graceMs) {
      const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
      h1.closeIdleConnections();
      for (const session of sessions) session.close(); // GOAWAY: finish open streams, accept no new ones
      http2Connection?.drain(graceMs);
      const deadline = setTimeout(() => {
        for (const s of sockets) s.destroy();
      }, graceMs);
      deadline.unref();
      await closed;
      clearTimeout(deadline);
    },
  };
}
