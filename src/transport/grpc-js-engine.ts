/**
 * The grpc-js engine for HTTP/2 connections (config `server.http2Engine: "grpc-js"`). grpc-js owns
 * each connection (keepalive, max connection age, drain) and each stream goes by its content type:
 * gRPC with protobuf to grpc-js (grpc-js-adapter.ts), everything else (Connect, gRPC-Web, gRPC
 * with JSON, /healthz…) to `fallback` through Node's HTTP/2 compatibility request and response,
 * so the port speaks every protocol on HTTP/2 as on HTTP/1.1 (README.md: one port for all three).
 */
import http2 from "node:http2";
import type net from "node:net";
import { type Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { Metrics } from "../app/ports/metrics.ts";
import { addServices, type GrpcJsService } from "./grpc-js-adapter.ts";
import { recordRefused } from "./rpc-interceptor.ts";

type Handler = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;
type StreamListener = (
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  flags: number,
  rawHeaders: string[],
) => void;

/** An engine that serves the HTTP/2 connections handed to it. */
export interface Http2Engine {
  inject(socket: net.Socket): void;
  /** GOAWAY to every connection, then closes those still open after `graceMs`. */
  drain(graceMs: number): void;
}

/** The settings of the grpc-js server. */
export interface GrpcJsEngineOptions {
  readonly maxMessageBytes: number;
  readonly maxConnectionAgeMs: number;
  readonly drainTimeoutMs: number;
}

/** What grpc-js serves; `application/grpc+json` is left to connect-node, which speaks it. */
export function isGrpcProto(contentType: string | undefined): boolean {
  return /^application\/grpc(\+proto)?\s*(;|$)/i.test(contentType ?? "");
}

/**
 * grpc-js answers some calls itself before any handler runs: a unary or server-streaming call
 * without exactly one request message (an empty body, a truncated frame, two frames) as
 * unimplemented. That is a malformed request, answered invalid_argument; and every such answer
 * (the interceptors tag theirs with x-request-id) is counted like the RPCs the interceptors see.
 */
function refusals(metrics: Metrics, logger: Logger): grpc.ServerInterceptor {
  return (method, call) =>
    new grpc.ServerInterceptingCall(
      call,
      new grpc.ResponderBuilder()
        .withSendStatus((status, next) => {
          const ours = (status.metadata?.get("x-request-id").length ?? 0) > 0;
          if (ours || status.code === grpc.status.OK || status.code === grpc.status.CANCELLED) return next(status);
          const count = /^Received (no|a second) request message/.exec(status.details)?.[1];
          const fixed =
            status.code === grpc.status.UNIMPLEMENTED && count
              ? {
                  ...status,
                  code: grpc.status.INVALID_ARGUMENT,
                  details: `malformed request: ${count === "no" ? "no complete request message" : "more than one request message"}`,
                }
              : status;
          const [service = "", name = ""] = method.path.split("/").slice(1);
          const err = new ConnectError(fixed.details, fixed.code as number as Code);
          recordRefused(metrics, logger, { service, method: name }, err);
          next(fixed);
        })
        .build(),
    );
}

/** Creates the engine; streams grpc-js does not speak go to `fallback`. */
export function createGrpcJsEngine(
  options: GrpcJsEngineOptions,
  services: readonly GrpcJsService[],
  interceptors: readonly Interceptor[],
  fallback: Handler,
  observe: { readonly metrics: Metrics; readonly logger: Logger },
): Http2Engine {
  const server = new grpc.Server({
    interceptors: [refusals(observe.metrics, observe.logger)],
    "grpc.max_receive_message_length": options.maxMessageBytes,
    "grpc.max_connection_age_ms": options.maxConnectionAgeMs,
    "grpc.max_connection_age_grace_ms": options.drainTimeoutMs,
    "grpc.keepalive_time_ms": 60_000,
    "grpc.keepalive_timeout_ms": 20_000,
  });
  addServices(server, services, interceptors);
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  // grpc-js answers 415 to any other content type and has no hook for them: its HTTP/2 server (the
  // injector's, the only one this grpc.Server has) gets a stream listener that dispatches first.
  const [h2] = (server as unknown as { http2Servers: Map<http2.Http2Server, unknown> }).http2Servers.keys();
  if (!h2) throw new Error("grpc-js: the connection injector has no HTTP/2 server");
  const toGrpc = h2.listeners("stream") as StreamListener[];
  h2.removeAllListeners("stream");
  // Never listens: turns a stream into the compatibility request/response Node gives a request listener.
  const compat = http2.createServer({}, fallback);
  h2.on("stream", (stream: http2.ServerHttp2Stream, headers, flags, rawHeaders) => {
    if (!isGrpcProto(headers["content-type"])) {
      compat.emit("stream", stream, headers, flags, rawHeaders);
      return;
    }
    for (const listener of toGrpc) listener.call(h2, stream, headers, flags, rawHeaders);
  });
  return {
    inject: (socket) => injector.injectConnection(socket),
    drain: (graceMs) => injector.drain(graceMs),
  };
}
